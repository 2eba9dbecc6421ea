"""The version of gan_kit, recorded in converted files and recipes."""

__version__ = "0.1.0"
