"""`python -m pddbatch.cli …`: the same as the installed `pddbatch` command."""

from pddbatch.cli import run

if __name__ == "__main__":
    run()
