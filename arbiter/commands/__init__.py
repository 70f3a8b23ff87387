"""Sub-commands of the ``arbiter`` CLI, one module per noun (``arbiter <noun> <verb>``)."""
