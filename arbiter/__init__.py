"""The committee: settings, the CLI, looks, verdict rules, decision records, the
hash-chained audit log, exports, reports and the scoreboard."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("arbiter")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
