"""Built-in demo models: procedural anime faces, and the recipes that train a tiny StyleGAN2
and a tiny run39 BigGAN on them and write them in their published formats.

`gan_kit.demo.faces` draws the data; `python -m gan_kit.demo.train` trains and exports;
`python -m gan_kit.demo.quality` measures what the models learnt; `write_showcase` is
`gan-kit demo`.
"""

from gan_kit.demo.showcase import write_showcase
from gan_kit.names import DEMO_MODELS

__all__ = ["DEMO_MODELS", "write_showcase"]
