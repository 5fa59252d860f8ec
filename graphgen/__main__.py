"""``python -m graphgen``: the command line (lets ``torchrun -m graphgen train higen ...`` start it)."""

from graphgen.cli.app import main

if __name__ == "__main__":
    main()
