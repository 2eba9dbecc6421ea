"""Breeding on the demo models: mutations move only the chosen slots toward real samples,
crossbreeds mix each layer group by its weight, undo goes back, bred favourites carry
their style code; and the BreedingStudio widget over it, clicked like a page would."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_page import FakePage
from PIL import Image

import gan_kit
from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore import (
    Explorer,
    Genome,
    History,
    breeding_groups,
    crossbreed,
    express_genes,
    load_genome,
    mutate,
    save_genome,
)
from gan_kit.explore.breeding import mutation_seeds
from gan_kit.explore.genome_png import GENOME_KEY, genome_text
from gan_kit.explore.tiles import tile, tile_at
from gan_kit.export import write_png
from gan_kit.widgets import BreedingStudio, jpeg_bytes


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh gan_kit cache (the studio's directions are cached there)."""
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def stylegan2() -> Explorer:
    return gan_kit.explorer("demo-stylegan2", device="cpu")


@pytest.fixture(scope="module")
def biggan() -> Explorer:
    return gan_kit.explorer("demo-biggan", device="cpu")


def pixels(explorer: Explorer, genome: Genome) -> np.ndarray:
    return explorer.render_uint8(genome.batch())[0]


# --- the core ------------------------------------------------------------------------------


def test_children_move_only_the_chosen_slots_toward_real_samples(stylegan2):
    ex = stylegan2
    parent = Genome.from_seed(ex, 3, psi=0.7)
    assert torch.equal(parent.styles, ex.seed_styles([3], psi=0.7)[0])
    children = mutate(ex, parent, 6, radius=0.5, layers="fine", seed=11, psi=0.7)
    targets = ex.seed_styles(mutation_seeds(11, 6), psi=0.7)
    fine = ex.layout.mask("fine")
    for child, target in zip(children, targets, strict=True):
        assert torch.equal(child.styles[~fine], parent.styles[~fine])  # exactly unchanged
        expected = torch.lerp(parent.styles, target, 0.5)[fine]
        torch.testing.assert_close(child.styles[fine], expected)
        assert "fine" in child.lineage[-1] and child.lineage[0] == parent.lineage[0]
    images = ex.render_uint8(torch.stack([c.styles for c in children]))
    distinct = {image.tobytes() for image in images}
    assert len(distinct) == 6 and pixels(ex, parent).tobytes() not in distinct


def test_mutations_are_deterministic_and_radius_spans_clone_to_sample(stylegan2):
    ex = stylegan2
    parent = Genome.from_seed(ex, 1)
    again = [c.styles for c in mutate(ex, parent, 4, radius=0.3, seed=5)]
    first = [c.styles for c in mutate(ex, parent, 4, radius=0.3, seed=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    other = mutate(ex, parent, 4, radius=0.3, seed=6)
    assert not any(torch.equal(a, b.styles) for a, b in zip(first, other, strict=True))
    clones = mutate(ex, parent, 2, radius=0.0, seed=5)
    assert all(torch.equal(c.styles, parent.styles) for c in clones)
    samples = mutate(ex, parent, 2, radius=1.0, seed=5, psi=0.7)
    target = ex.seed_styles(mutation_seeds(5, 2), psi=0.7)
    torch.testing.assert_close(torch.stack([c.styles for c in samples]), target)


def test_a_biggan_child_can_blend_its_class_toward_the_samples(biggan):
    ex = biggan
    parent = Genome.from_seed(ex, 0, classes=2)
    (child,) = mutate(ex, parent, 1, radius=0.25, layers="class", seed=3)
    (target_seed,) = mutation_seeds(3, 1)
    z = ex.layout.mask("z")
    assert torch.equal(child.styles[z], parent.styles[z])
    for slot in ex.slot_groups["class"]:
        vector = child.styles[ex.layout.regions[slot]]
        expected = torch.zeros(ex.n_class)
        expected[2] += 0.75
        expected[target_seed % ex.n_class] += 0.25
        torch.testing.assert_close(vector, expected)
    assert not np.array_equal(pixels(ex, child), pixels(ex, parent))


def test_breeding_groups_split_the_slots_without_overlap(stylegan2, biggan):
    assert breeding_groups(stylegan2) == {
        "coarse": ("w0", "w1", "w2", "w3"),
        "middle": ("w4", "w5", "w6", "w7"),
        "fine": ("w8", "w9"),
    }
    groups = breeding_groups(biggan)
    assert set(groups) == {"coarse", "middle", "class"}  # "z" and "all" join the others
    slots = [slot for members in groups.values() for slot in members]
    assert sorted(slots) == sorted(biggan.slots)


def test_a_crossbreed_mixes_each_group_by_its_weight(stylegan2):
    ex = stylegan2
    first, second = Genome.from_seed(ex, 1), Genome.from_seed(ex, 2)
    child = crossbreed(ex, first, second, {"coarse": 1.0, "fine": 0.5})
    coarse, fine = ex.layout.mask("coarse"), ex.layout.mask("fine")
    middle = ex.layout.mask("middle")
    assert torch.equal(child.styles[coarse], second.styles[coarse])
    assert torch.equal(child.styles[middle], first.styles[middle])
    torch.testing.assert_close(child.styles[fine], (first.styles[fine] + second.styles[fine]) / 2)
    nothing = crossbreed(ex, first, second, {})
    assert torch.equal(nothing.styles, first.styles)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"coarse": float("nan")}, "weight of 'coarse' must be a number from 0 to 1"),
        ({"coarse": 2}, "from 0 to 1"),
        ({"hair": 0.5}, "unknown layer 'hair'"),
        ({"all": 0.5, "fine": 1.0}, "named twice"),
    ],
)
def test_bad_crossbreed_weights_are_named(stylegan2, weights, message):
    ex = stylegan2
    with pytest.raises(InvalidInputError, match=message):
        crossbreed(ex, Genome.from_seed(ex, 1), Genome.from_seed(ex, 2), weights)


def test_bad_mutations_and_foreign_genomes_are_clear_errors(stylegan2, biggan):
    parent = Genome.from_seed(stylegan2, 1)
    with pytest.raises(InvalidInputError, match="radius must be a number from 0 to 1"):
        mutate(stylegan2, parent, radius=float("nan"))
    with pytest.raises(InvalidInputError, match="count must be a whole number from 1 to 64"):
        mutate(stylegan2, parent, 0)
    with pytest.raises(InvalidInputError, match="unknown layer 'hair'"):
        mutate(stylegan2, parent, layers="hair")
    with pytest.raises(InvalidInputError, match="comes from another model"):
        mutate(biggan, parent)


def test_history_undoes_to_the_first_parent_and_forgets_past_its_limit(stylegan2):
    genomes = [Genome.from_seed(stylegan2, seed) for seed in range(4)]
    history = History(genomes[0], limit=3)
    assert not history.can_undo
    with pytest.raises(InvalidInputError, match="nothing to undo"):
        history.undo()
    for genome in genomes[1:]:
        history.push(genome)
    assert history.current is genomes[3] and len(history) == 3
    assert history.undo() is genomes[2] and history.undo() is genomes[1]
    assert not history.can_undo


def test_a_long_lineage_is_summed_up(stylegan2):
    genome = Genome.from_seed(stylegan2, 1)
    for step in range(100):
        genome = genome.child(genome.styles, f"step {step}")
    assert len(genome.lineage) == 64
    assert genome.lineage[0] == "… 38 earlier steps"  # of 101: 38 summed up, 63 kept
    assert genome.lineage[-1] == "step 99"


# --- bred favourites -----------------------------------------------------------------------


def test_a_bred_favourite_renders_its_pixels_again(biggan, tmp_path):
    ex = biggan
    child = mutate(ex, Genome.from_seed(ex, 4), 3, radius=0.6, layers="all", seed=2)[1]
    path = save_genome(ex, child, tmp_path / "kept")
    saved = np.asarray(Image.open(path).convert("RGB"))
    loaded = load_genome(path, ex)
    assert torch.equal(loaded.styles, child.styles) and loaded.lineage == child.lineage
    assert np.array_equal(pixels(ex, loaded), saved)
    assert path != save_genome(ex, child, tmp_path / "kept")  # a second keep: a new file


def forged(explorer: Explorer, genome: Genome, tmp_path: Path, **changes) -> Path:
    record = json.loads(genome_text(explorer, genome))
    record.update(changes)
    image = np.zeros((8, 8, 3), np.uint8)
    return write_png(image, tmp_path / "forged.png", text={GENOME_KEY: json.dumps(record)})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"styles": "AAAA"}, "style code must be"),
        ({"shape": [1 << 30]}, "shape must be up to 4 sizes"),
        ({"shape": [-1]}, "shape must be"),
        ({"kind": "gpt"}, "kind or noise mode is unknown"),
        ({"lineage": ["x" * 10_000]}, "lineage must be"),
        ({"extra": 1}, "fields must be"),
        ({"styles": base64.b64encode(np.full(1280, np.nan, "<f4").tobytes()).decode()}, "finite"),
    ],
)
def test_a_forged_genome_is_a_clear_error(stylegan2, tmp_path, changes, message):
    genome = Genome.from_seed(stylegan2, 1)
    path = forged(stylegan2, genome, tmp_path, **changes)
    with pytest.raises(InvalidInputError, match=message):
        load_genome(path, stylegan2)


def test_a_genome_from_another_model_or_no_genome_is_refused(stylegan2, biggan, tmp_path):
    path = save_genome(stylegan2, Genome.from_seed(stylegan2, 1), tmp_path)
    with pytest.raises(InvalidInputError, match="bred on a stylegan2 model, not biggan"):
        load_genome(path, biggan)
    plain = write_png(np.zeros((8, 8, 3), np.uint8), tmp_path / "plain.png")
    with pytest.raises(GanKitError, match="holds no bred genome"):
        load_genome(plain)


def test_tiles_and_the_tile_under_a_click():
    images = [np.full((4, 4, 3), value, np.uint8) for value in (10, 20, 30)]
    sheet = tile(images, 2, gap=2)
    assert sheet.shape == (10, 10, 3)
    assert (sheet[:4, :4] == 10).all() and (sheet[:4, 6:] == 20).all()
    assert (sheet[6:, :4] == 30).all() and (sheet[6:, 6:] == 255).all()
    assert tile_at(0.1, 0.1, 3, 2) == 0 and tile_at(0.9, 0.2, 3, 2) == 1
    assert tile_at(0.2, 0.9, 3, 2) == 2 and tile_at(0.9, 0.9, 3, 2) is None
    assert tile_at(1.0, 1.0, 4, 2) == 3


# --- the widget ----------------------------------------------------------------------------


@pytest.fixture
def studio(stylegan2, tmp_path) -> BreedingStudio:
    return BreedingStudio(stylegan2, seed=5, psi=0.7, children=4, columns=2, favourites=tmp_path)


def shown(preview) -> bytes:
    """The JPEG the preview's image holds (static mode)."""
    return bytes(preview.image.value)


def test_the_studio_shows_the_parent_and_its_children(studio, stylegan2):
    ex = stylegan2
    parent = Genome.from_seed(ex, 5, psi=0.7)
    assert shown(studio.parent_preview) == jpeg_bytes(pixels(ex, parent))
    children = mutate(ex, parent, 4, radius=0.5, layers="all", seed=0, psi=0.7)
    sheet = tile(ex.render_uint8(torch.stack([c.styles for c in children])), 2)
    assert shown(studio.children_preview) == jpeg_bytes(sheet)
    assert studio.undo_button.disabled


def test_clicking_a_child_makes_it_the_parent_and_undo_restores(studio, stylegan2):
    ex = stylegan2
    first = studio.parent
    page = FakePage(studio.children_preview)
    page.run()
    children = studio.children()
    page.later({"type": "click", "x": 0.8, "y": 0.8})  # lower right: child 3
    page.run()
    assert studio.parent is children[3] and not studio.undo_button.disabled
    assert shown(studio.parent_preview) == jpeg_bytes(pixels(ex, children[3]))
    new_children = studio.children()
    assert not torch.equal(new_children[0].styles, children[0].styles)  # bred from the child
    assert len(page.frames) == 2  # the new children went to the page
    studio.undo()
    assert studio.parent is first and studio.undo_button.disabled
    assert shown(studio.parent_preview) == jpeg_bytes(pixels(ex, first))


def test_the_mutation_controls_choose_the_children(studio, stylegan2):
    ex = stylegan2
    for name, toggle in studio.group_toggles.items():
        toggle.value = name == "coarse"
    studio.radius.value = 0.25
    studio.new_children.click()
    assert studio.mutation_seed.value == 1
    expected = mutate(ex, studio.parent, 4, radius=0.25, layers="coarse", seed=1, psi=0.7)
    for child, wanted in zip(studio.children(), expected, strict=True):
        assert torch.equal(child.styles, wanted.styles)
    studio.group_toggles["coarse"].value = False
    assert "choose at least one layer group" in studio.children_preview.status.value


def test_the_crossbreed_slider_moves_only_its_group(studio, stylegan2):
    ex = stylegan2
    studio.keep_favourite()
    studio.pick(1)
    studio.keep_favourite()
    first = studio.kept[studio.cross_a.value]
    second = studio.kept[studio.cross_b.value]
    assert first is not second
    studio.cross_weights["fine"].value = 1.0
    expected = ex.mix(first.batch(), second.batch(), "fine")
    crossed = studio.crossbred()
    assert torch.equal(crossed.batch(), expected)
    assert shown(studio.cross_preview) == jpeg_bytes(ex.render_uint8(expected)[0])
    fine = ex.layout.mask("fine")
    assert torch.equal(crossed.styles[~fine], first.styles[~fine])
    studio.adopt_crossbreed()
    assert studio.parent is crossed


def test_kept_favourites_come_back_in_a_new_studio(studio, stylegan2, tmp_path):
    path = studio.keep_favourite()
    again = BreedingStudio(stylegan2, favourites=tmp_path)
    assert path.name in again.favourite_list.options
    again.load_favourite(path)
    assert torch.equal(again.parent.styles, studio.parent.styles)
    assert again.undo_button.disabled is False


# --- genes: the directions API -------------------------------------------------------------


def test_genes_move_a_genome_along_named_directions(stylegan2):
    ex = stylegan2
    directions = gan_kit.sefa(ex, slots="coarse", top=3).with_names({1: "hair"})
    genome = Genome.from_seed(ex, 2)
    assert express_genes(ex, genome, directions, [0.0, 0.0]) is genome
    moved = express_genes(ex, genome, directions, [0.0, 2.0, -1.0])
    expected = ex.edit(ex.edit(genome.batch(), directions, 1, 2.0), directions, 2, -1.0)
    torch.testing.assert_close(moved.batch(), expected)
    coarse = ex.layout.mask("coarse")
    assert torch.equal(moved.styles[~coarse], genome.styles[~coarse])
    assert moved.lineage[-1] == "genes · hair +2, sefa 2 -1"
    with pytest.raises(InvalidInputError, match="4 gene strengths for 3 directions"):
        express_genes(ex, genome, directions, [0, 0, 0, 1])
    with pytest.raises(InvalidInputError, match="finite number"):
        express_genes(ex, genome, directions, [float("nan")])


def test_gene_sliders_edit_the_parent_its_children_and_favourite(stylegan2, tmp_path):
    ex = stylegan2
    directions = gan_kit.sefa(ex, top=2).with_names({0: "first gene"})
    studio = BreedingStudio(
        ex, seed=5, psi=0.7, children=2, columns=2, favourites=tmp_path, directions=directions
    )
    assert [slider.description for slider in studio.gene_sliders] == ["first gene", "sefa 1"]
    base = studio.parent
    studio.gene_sliders[0].value = 1.5
    expected = ex.edit(base.batch(), directions, 0, 1.5)
    assert torch.equal(studio.parent.batch(), expected)
    assert shown(studio.parent_preview) == jpeg_bytes(ex.render_uint8(expected)[0])
    wanted = mutate(ex, studio.parent, 2, radius=0.5, seed=0, psi=0.7)
    assert torch.equal(studio.children()[1].styles, wanted[1].styles)  # bred from the edit
    kept = load_genome(studio.keep_favourite(), ex)
    assert torch.equal(kept.batch(), expected) and kept.lineage[-1] == "genes · first gene +1.5"
    studio.pick(1)
    assert all(slider.value == 0 for slider in studio.gene_sliders)  # baked into the child
    assert torch.equal(studio.parent.styles, wanted[1].styles)
    studio.undo()
    assert studio.parent is base and studio.gene_sliders[0].value == 0
    default = BreedingStudio(ex, children=2, favourites=tmp_path, genes=3)
    assert [slider.description for slider in default.gene_sliders] == ["sefa 0", "sefa 1", "sefa 2"]
    assert BreedingStudio(ex, children=2, favourites=tmp_path, genes=0).gene_sliders == []


def test_the_studio_breeds_a_biggan_with_its_class_group(biggan, tmp_path):
    ex = biggan
    studio = BreedingStudio(ex, seed=1, children=4, columns=2, favourites=tmp_path, genes=2)
    assert set(studio.group_toggles) == {"coarse", "middle", "class"}
    assert len(studio.gene_sliders) == 2
    first = studio.parent
    for name, toggle in studio.group_toggles.items():
        toggle.value = name == "class"
    studio.radius.value = 1.0
    child = studio.pick(0)
    target = mutation_seeds(0, 4)[0]
    for slot in ex.slot_groups["class"]:  # the sample's class, z untouched
        assert int(child.styles[ex.layout.regions[slot]].argmax()) == target % ex.n_class
    z = ex.layout.mask("z")
    assert torch.equal(child.styles[z], first.styles[z])
    assert shown(studio.parent_preview) == jpeg_bytes(pixels(ex, child))


def test_the_crossbreed_pane_waits_for_two_favourites(studio):
    assert studio.cross_preview.widget.layout.display == "none"
    assert studio.cross_status.value == "keep two favourites to crossbreed them"
    studio.keep_favourite()
    studio.pick(0)
    studio.keep_favourite()
    assert studio.cross_preview.widget.layout.display is None and studio.cross_status.value == ""
