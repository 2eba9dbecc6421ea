"""`ExplorerWidget`: sliders over one model. Every model gets seed and truncation sliders
(the truncation's name, default and range from the explorer), a second seed whose slots
can be swapped in (one toggle per slot, plus the model's slot groups as presets) and
favourites; a model with a per-layer cutoff gets its slider, one with noise inputs the
noise mode, a conditional one the class sliders and a blend between two classes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from gan_kit.errors import InvalidInputError
from gan_kit.explore import Explorer
from gan_kit.explore.favourites import ImageState, load_favourite, render_state, save_favourite
from gan_kit.latents.classes import ClassChoice, format_class, normalised_class
from gan_kit.latents.seeds import checked_seeds
from gan_kit.latents.truncation import checked_cutoff, checked_psi
from gan_kit.widgets.controls import float_slider, int_slider, psi_slider, reach
from gan_kit.widgets.preview import Preview

MAX_SLIDER_SEED = 99_999  # the sliders' range; ImageState takes any seed


class ExplorerWidget:
    """The interactive explorer of `explorer`; display it (or `.widget`) in a notebook.

    Every control change asks the preview for the new `state()`; see
    `gan_kit.widgets.preview` for how the newest state wins, on the kernel's main thread.

    Args:
        explorer: the model to explore (`gan_kit.explorer(...)`).
        seed: the first image's seed.
        psi: its truncation (default: the model's, `explorer.psi_default`); the slider
            spans the model's `psi_range`, widened to reach `psi`.
        mix_seed: the second sample, whose toggled slots are swapped in.
        favourites: the folder where "keep favourite" saves PNGs.
    """

    def __init__(
        self,
        explorer: Explorer,
        *,
        seed: int = 0,
        psi: float | None = None,
        mix_seed: int = 1,
        favourites: str | Path = "favourites",
    ) -> None:
        self.explorer = explorer
        self.favourites = Path(favourites)
        seed, mix_seed = checked_seeds([seed, mix_seed])
        self.seed = int_slider("seed", 0, MAX_SLIDER_SEED, 0)
        reach(self.seed, seed)
        self.psi = psi_slider(explorer, psi)
        controls: list[widgets.Widget] = [self.seed, self.psi]
        sliders = [self.seed, self.psi]
        self.max_cutoff = explorer.max_cutoff
        if self.max_cutoff is not None:
            self.cutoff = int_slider("cutoff", 0, self.max_cutoff, self.max_cutoff)
            controls.append(self.cutoff)
            sliders.append(self.cutoff)
        if explorer.noise_modes:
            self.noise = widgets.ToggleButtons(
                options=list(explorer.noise_modes), style={"button_width": "64px"}
            )
            controls.append(self.noise)
        if explorer.n_class:
            last = explorer.n_class - 1
            self.class_a = int_slider("class", 0, last, explorer.default_class(seed))
            self.class_b = int_slider("class B", 0, last, explorer.default_class(mix_seed))
            self.blend = float_slider("blend", 0.0, 1.0, 0.0)
            controls += [self.class_a, self.class_b, self.blend]
            sliders += [self.class_a, self.class_b, self.blend]
        self.mix_seed = int_slider("mix seed", 0, MAX_SLIDER_SEED, 0)
        reach(self.mix_seed, mix_seed)
        sliders.append(self.mix_seed)
        self.slot_toggles = {
            slot: widgets.ToggleButton(description=slot, layout=widgets.Layout(width="auto"))
            for slot in explorer.slots
        }
        groups = {name: slots for name, slots in explorer.slot_groups.items() if name != "all"}
        self.presets = {name: widgets.Button(description=name) for name in [*groups, "none"]}
        for name, button in self.presets.items():
            button.on_click(self._preset_handler(groups.get(name, ())))
        for control in [*controls, self.mix_seed, *self.slot_toggles.values()]:
            control.observe(self._changed, "value")

        self.keep_button = widgets.Button(description="keep favourite")
        self.keep_button.on_click(lambda _: self.keep_favourite())
        self.favourite_list = widgets.Dropdown(description="favourites", options=[])
        self.load_button = widgets.Button(description="load")
        self.load_button.on_click(lambda _: self._load_selected())
        self.favourite_status = widgets.Label(value="")
        self._list_favourites()

        self.preview = Preview(
            lambda state: render_state(explorer, state),
            self.describe,
            explorer.resolution,
            controls=sliders,
        )
        mixing = widgets.VBox(
            [
                self.mix_seed,
                widgets.HBox(list(self.slot_toggles.values()), layout={"flex_flow": "row wrap"}),
                widgets.HBox(list(self.presets.values())),
            ]
        )
        favourites_row = widgets.HBox(
            [self.keep_button, self.favourite_list, self.load_button, self.favourite_status]
        )
        self.widget = widgets.VBox(
            [widgets.HBox([widgets.VBox(controls), self.preview.widget]), mixing, favourites_row]
        )
        self.preview.show(self.state())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # --- state ----------------------------------------------------------------------------

    def _classes(self) -> ClassChoice | None:
        """Class A, or its blend with class B."""
        if not self.explorer.n_class:
            return None
        a, b, weight = self.class_a.value, self.class_b.value, round(self.blend.value, 4)
        if a == b or weight == 0:
            return a
        return b if weight == 1 else {a: round(1 - weight, 4), b: weight}

    def state(self) -> ImageState:
        """The image the controls describe."""
        cutoff = None
        if self.max_cutoff is not None and self.cutoff.value < self.max_cutoff:
            cutoff = self.cutoff.value
        return ImageState(
            seed=self.seed.value,
            psi=round(self.psi.value, 4),
            cutoff=cutoff,
            noise_mode=self.noise.value if self.explorer.noise_modes else "const",
            classes=self._classes(),
            mix_seed=self.mix_seed.value,
            mix_classes=self.class_b.value if self.explorer.n_class else None,
            mix_layers=tuple(slot for slot, toggle in self.slot_toggles.items() if toggle.value),
        )

    def set_state(self, state: ImageState) -> None:
        """Move the controls to `state` (one render, of the final state). A state that the
        controls cannot show exactly is refused before any of them moves."""
        seeds = checked_seeds([state.seed, *([] if state.mix_seed is None else [state.mix_seed])])
        psi = checked_psi(state.psi)
        if self.max_cutoff is not None:
            checked_cutoff(state.cutoff, self.max_cutoff)
        if state.mix_layers:
            self.explorer.layout.resolve(state.mix_layers)  # unknown slots fail here
        classes = self._class_controls(state) if self.explorer.n_class else None
        with self.preview.hold():
            reach(self.seed, seeds[0])
            reach(self.psi, psi)
            if self.max_cutoff is not None:
                self.cutoff.value = self.max_cutoff if state.cutoff is None else state.cutoff
            if self.explorer.noise_modes:
                self.noise.value = state.noise_mode
            if classes is not None:
                class_a, class_b, weight = classes
                self.class_a.value, self.blend.value = class_a, weight
                if class_b is not None:
                    self.class_b.value = class_b
            if state.mix_seed is not None:
                reach(self.mix_seed, seeds[1])
            self.select_slots(state.mix_layers)

    def _class_controls(self, state: ImageState) -> tuple[int, int | None, float]:
        """(class, class B or None to keep it, blend weight) showing the state's classes."""
        n_class = self.explorer.n_class
        spec = self.explorer.default_class(state.seed) if state.classes is None else state.classes
        choice = normalised_class(spec, n_class)
        mix_class = state.mix_classes
        if mix_class is not None:
            mix_class = normalised_class(mix_class, n_class)
            if not isinstance(mix_class, int):
                raise InvalidInputError("the explorer's class B is one class, not a blend")
        if isinstance(choice, int):
            return choice, mix_class, 0.0
        weights = {index: weight for index, weight in choice.items() if weight != 0}
        if len(weights) == 1 and next(iter(weights.values())) == 1:
            return next(iter(weights)), mix_class, 0.0
        if (
            len(weights) == 2
            and math.isclose(sum(weights.values()), 1)
            and all(0 <= weight <= 1 for weight in weights.values())
        ):
            (class_a, _), (class_b, weight) = weights.items()
            return class_a, class_b, weight
        raise InvalidInputError(
            f"the explorer shows one class or a blend of two whose weights add up to 1, not "
            f"{format_class(choice)}: render other blends with gan_kit.sample_grid"
        )

    def _preset_handler(self, slots: tuple[str, ...]) -> Callable[[widgets.Button], None]:
        """The click handler of a preset button (a function per button: no late binding)."""
        return lambda _button: self.select_slots(slots)

    def select_slots(self, slots: tuple[str, ...] | list[str]) -> None:
        """Turn on exactly the toggles of `slots` (one render)."""
        chosen = set(self.explorer.layout.resolve(slots)) if slots else set()
        with self.preview.hold():
            for slot, toggle in self.slot_toggles.items():
                toggle.value = slot in chosen

    def describe(self, state: ImageState) -> str:
        """The status line's account of `state`."""
        parts = [f"seed {state.seed}", f"psi {state.psi:.2f}"]
        if state.cutoff is not None:
            parts.append(f"cutoff {state.cutoff}")
        if state.classes is not None:
            parts.append(f"class {format_class(state.classes)}")
        if state.mix_layers:
            parts.append(f"{len(state.mix_layers)} slots from seed {state.mix_seed}")
        return " · ".join(parts)

    def _changed(self, _change: dict) -> None:
        self.preview.show(self.state())

    # --- favourites -----------------------------------------------------------------------

    def keep_favourite(self) -> Path:
        """Save the current image with its state as a PNG in the favourites folder."""
        state = self.state()
        path = save_favourite(self.explorer, state, self.favourites, self.preview.pixels_of(state))
        self._list_favourites()
        self.favourite_list.value = path.name
        self.favourite_status.value = f"kept {path}"
        return path

    def load_favourite(self, path: str | Path) -> ImageState:
        """Show the state saved in the favourite PNG at `path` (or a one-image recipe PNG)."""
        state = load_favourite(path, self.explorer)
        self.set_state(state)
        self.favourite_status.value = f"loaded {path}"
        return state

    def _list_favourites(self) -> None:
        found = self.favourites.glob("*.png") if self.favourites.is_dir() else []
        self.favourite_list.options = sorted(path.name for path in found)

    def _load_selected(self) -> None:
        if self.favourite_list.value:
            self.load_favourite(self.favourites / self.favourite_list.value)
