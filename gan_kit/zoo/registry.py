"""The named models gan_kit knows: what each is, how to use it, and where it is published.

Facts come from `../shared/docs/` (gathered from gwern.net, the NVIDIA and rosinality code
and the Hugging Face repos) unless a field says otherwise. No hash is filled in that was
not read off a published file: unknown sizes and sha256 sums stay None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gan_kit.errors import UnknownModelError
from gan_kit.generators.kinds import KINDS

SourceKind = Literal["huggingface", "url", "manual", "bundled"]


@dataclass(frozen=True)
class Source:
    """One place a model's weights are published: the file `filename` at `location`, in
    `file_format` (described in words), with a `note` on using it, and its `sha256` and
    `size` where read off the published file (None where unknown).

    The `kind` of source: `huggingface` and `url` sources are downloaded by gan_kit; a
    `manual` source (Mega,
    Google Drive, rsync) is fetched by the user, who passes the local file to `gan_kit.load`;
    a `bundled` file ships inside gan_kit (`location` is its package folder).
    `normalize_z` states a StyleGAN2 setting that the file's format cannot record
    (rosinality's layout always pixel-normalises z); None keeps what the loader reads.
    """

    kind: SourceKind
    location: str  # "org/name" for huggingface, else a URL or an rsync address
    filename: str
    file_format: str
    note: str = ""
    sha256: str | None = None
    size: int | None = None
    normalize_z: bool | None = None

    @property
    def fetched_by_gan_kit(self) -> bool:
        """Whether gan_kit downloads it (or ships it), rather than the user."""
        return self.kind != "manual"


@dataclass(frozen=True)
class ModelEntry:
    """A named pretrained model: enough to choose it, use it well, and fetch it.

    `name` for `gan_kit.load`, the generator's `kind`, the images' `resolution`, a
    `description` and its `licence`; `psi_default`, the truncation to start from,
    `psi_range`, the psi worth exploring, and `psi_note`, where those come from; its
    `sources`, the first gan_kit can fetch being the default. Its layer groups are its
    explorer's (`gan_kit.explorer(name).slot_groups`), read off the model."""

    name: str
    kind: str  # the generator's kind: one of gan_kit.generators.kinds.KINDS
    resolution: int
    description: str
    licence: str
    psi_default: float  # the truncation psi to start from
    psi_range: tuple[float, float]  # the psi worth exploring (sliders may go further)
    psi_note: str
    sources: tuple[Source, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}; kinds are {KINDS}")
        low, high = self.psi_range
        if not low <= self.psi_default <= high:
            raise ValueError(f"{self.name}: psi_default is outside psi_range {self.psi_range}")

    @property
    def default_source(self) -> Source | None:
        """The first source gan_kit can fetch itself, or None when all are manual."""
        return next((source for source in self.sources if source.fetched_by_gan_kit), None)


DEMO_FOLDER = "gan_kit.demo/checkpoints"  # a link to assets/demo/ in the repository
_DEMO_NOTE = "ships with gan_kit (assets/demo/ in the repository); see assets/README.md"
_DEMO_LICENCE = "MIT, like gan_kit: trained by gan_kit on its own procedural faces"

MODELS: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            name="anime-biggan-256",
            kind="biggan",
            resolution=256,
            description=(
                "Tensorfork's anime BigGAN run39 (Danbooru2019 + e621, 256 px, 1000 unnamed "
                "random classes, z = 7 chunks of 20)"
            ),
            licence=(
                "not stated by Tensorfork/Gwern nor on HighCWu's repo (it has no model card): "
                "ask the authors before any commercial use"
            ),
            psi_default=0.7,
            psi_range=(0.5, 1.0),
            psi_note=(
                "no official truncation; seen in use: t * truncnorm(-2, 2) (Tensorfork), "
                "t = 0.5 with truncnorm(-1, 1) (HighCWu), plain randn (demo app)"
            ),
            sources=(
                Source(
                    "huggingface",
                    "HighCWu/anime-biggan-pytorch",
                    "pytorch_model.bin",
                    "PyTorch state dict of the generator (HighCWu layout, 198 keys)",
                    note="the practical download; BN statistics from only 64 samples: "
                    "use G.recompute_standing_stats()",
                ),
                Source(
                    "manual",
                    "rsync://176.9.41.242:873/biggan/",
                    "2020-05-18-spresser-biggan-256px-danbooruplus-run39-607250.tar.xz",
                    "TF1 checkpoint model.ckpt-607250 (.index + .data-*) in a tar.xz",
                    note="fetch with `rsync --verbose rsync://176.9.41.242:873/biggan/<file> ./`, "
                    "extract with `tar xJf`, then gan_kit.load('<folder>/model.ckpt-607250')",
                ),
            ),
        ),
        ModelEntry(
            name="anime-portraits-512",
            kind="stylegan2",
            resolution=512,
            description=(
                "Aaron Gokaslan's anime portraits (TWDNE v3), StyleGAN2 config-f, 512 px, 16 ws"
            ),
            licence="CC-0 per Gwern (gwern.net 'Making Anime Faces With StyleGAN')",
            psi_default=0.7,
            psi_range=(0.5, 1.0),
            psi_note="no published recommendation found; 0.5-1.0 is gan_kit's suggestion, "
            "psi > 1 exaggerates",
            sources=(
                Source(
                    "manual",
                    "https://mega.nz/#!PeIi2ayb!xoRtjTXyXuvgDxSsSMn-cOh-Zux9493zqdxwVMaAzp4",
                    "2020-01-11-skylion-stylegan2-animeportraits-networksnapshot-024664.pkl.xz",
                    "NVIDIA TF pickle (G, D, Gs), xz-compressed (~320 MB)",
                    note="Mega only (link as quoted in public scripts; gwern.net/Faces links "
                    "it): download in a browser, `xz -d` it, and pass the .pkl to gan_kit.load",
                ),
                Source(
                    "manual",
                    "rsync://176.9.41.242:873/",
                    "2020-01-11-skylion-stylegan2-animeportraits-networksnapshot-024664.pkl",
                    "NVIDIA TF pickle (G, D, Gs)",
                    note="the gwern rsync mirror (see gwern.net/Faces for the module path): "
                    "rsync it and pass the local file to gan_kit.load",
                ),
            ),
        ),
        ModelEntry(
            name="tadne-512",
            kind="stylegan2",
            resolution=512,
            description=(
                "Aydao's This Anime Does Not Exist (StyleGAN2-ext, Danbooru2019, 512 px, "
                "z = w = 1024, 4 mapping layers, wider channels), from its rosinality-layout .pt"
            ),
            licence="CC0 (as published in the Hugging Face repo public-data/TADNE)",
            psi_default=1.1,
            psi_range=(0.6, 1.2),
            psi_note="looks best near psi = 1.1 (gwern); hysts' TADNE demo defaults to 0.7",
            sources=(
                Source(
                    "huggingface",
                    "public-data/TADNE",
                    "models/aydao-anime-danbooru2019s-512-5268480.pt",
                    "rosinality-layout StyleGAN2 checkpoint {'g_ema', 'latent_avg'} (470 MB)",
                    note="converted with rosinality's script, whose layout cannot say that "
                    "StyleGAN2-ext does not pixel-normalise z (its G_mapping defaults to "
                    "normalize_latents=False; genforce's TADNE port agrees): gan_kit turns it "
                    "off, as the .pkl's own source does; sizes come from the shapes",
                    normalize_z=False,
                ),
                Source(
                    "huggingface",
                    "public-data/TADNE",
                    "orig/aydao-anime-danbooru2019s-512-5268480.pkl",
                    "NVIDIA TF pickle (G, D, Gs) of StyleGAN2-ext (1.06 GB)",
                    note="the original; twice the download of the .pt for the same generator. "
                    "gan_kit reads its settings from the pickled source (never run) and its "
                    "sizes from the shapes: download it and pass the path to gan_kit.load",
                ),
            ),
        ),
        ModelEntry(
            name="demo-stylegan2",
            kind="stylegan2",
            resolution=64,
            description=(
                "gan_kit's demo StyleGAN2 (64 px, z = w = 128, 10 ws), trained on its "
                "procedural anime faces: works offline"
            ),
            licence=_DEMO_LICENCE,
            psi_default=0.7,
            psi_range=(0.5, 1.0),
            psi_note="psi 0.7 gives the cleanest faces; 1.0 the most varied",
            sources=(
                Source(
                    "bundled",
                    DEMO_FOLDER,
                    "demo-stylegan2.pkl",
                    "NVIDIA TF pickle (G, D, Gs)",
                    note=_DEMO_NOTE,
                ),
            ),
        ),
        ModelEntry(
            name="demo-biggan",
            kind="biggan",
            resolution=64,
            description=(
                "gan_kit's demo BigGAN (run39 architecture at 64 px, ch 8, z = 5 chunks of "
                "20), trained on its procedural faces: works offline; classes 0-5 are black, "
                "brown, blonde, red, blue and pink hair"
            ),
            licence=_DEMO_LICENCE,
            psi_default=0.7,
            psi_range=(0.5, 1.0),
            psi_note="trained on plain N(0, 1) z; truncation below 0.5 flattens the faces",
            sources=(
                Source(
                    "bundled",
                    DEMO_FOLDER,
                    "demo-biggan.pt",
                    "PyTorch state dict of the generator (HighCWu layout)",
                    note=_DEMO_NOTE,
                ),
            ),
        ),
    )
}


def models() -> list[str]:
    """The names of the models `gan_kit.load` fetches by name, e.g. 'anime-portraits-512'."""
    return sorted(MODELS)


def get_model(name: str) -> ModelEntry:
    """The registry entry called `name`."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"no model called {name!r} in gan_kit's registry; known: {', '.join(models())} "
            "(or pass a local path or an http(s) URL)"
        ) from None
