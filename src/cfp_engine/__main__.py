"""``python -m cfp_engine`` runs the ``cfp`` command line."""

from cfp_engine.cli import main

if __name__ == "__main__":
    main()
