"""`python -m broadcast ...`: the same command as `broadcast ...` (where the Scripts folder is not on
PATH, as on many Windows PCs, `py -m broadcast build` still works)."""

from .console import main

main()
