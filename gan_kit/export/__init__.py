"""Model-independent image and animation files: GIF, MP4 and PNG with text metadata.

Every writer checks its arguments before doing any work, writes through `atomic_path`
(a complete file or none) and replaces an existing file only when asked to.
"""

from gan_kit.export.gif import write_gif
from gan_kit.export.mp4 import write_mp4
from gan_kit.export.png import read_png_text, write_png
from gan_kit.files import atomic_path

__all__ = ["atomic_path", "read_png_text", "write_gif", "write_mp4", "write_png"]
