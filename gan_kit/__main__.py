"""`python -m gan_kit`: the gan-kit command line."""

from gan_kit.cli import main

raise SystemExit(main())
