"""`python -m sinkhole` runs the command line."""

from sinkhole.cli import main

main()
