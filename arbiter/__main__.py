"""``python -m arbiter`` is the ``arbiter`` command."""

from arbiter.cli import main

if __name__ == "__main__":  # a spawned import-parser process re-imports this module
    main()
