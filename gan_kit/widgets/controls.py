"""Slider helpers shared by the widgets: sliders built one way, and set beyond their range."""

from __future__ import annotations

import ipywidgets as widgets

from gan_kit.explore import Explorer
from gan_kit.latents.truncation import checked_psi


def int_slider(description: str, low: int, high: int, value: int) -> widgets.IntSlider:
    """A slider of whole numbers (`continuous_update` follows the preview's mode)."""
    return widgets.IntSlider(
        description=description, min=low, max=high, value=value, continuous_update=True
    )


def float_slider(description: str, low: float, high: float, value: float) -> widgets.FloatSlider:
    """A slider in steps of 0.01, shown with two decimals."""
    return widgets.FloatSlider(
        description=description, min=low, max=high, step=0.01, value=value, readout_format=".2f"
    )


def reach(slider: widgets.IntSlider | widgets.FloatSlider, value: float) -> None:
    """Set `value`, widening the slider's range if needed (sliders clamp silently)."""
    slider.max, slider.min = max(slider.max, value), min(slider.min, value)
    slider.value = value


def psi_slider(explorer: Explorer, psi: float | None) -> widgets.FloatSlider:
    """The truncation slider of `explorer`: its name, over the model's `psi_range`, at
    `psi` (default: the model's `psi_default`), widened to reach it."""
    value = explorer.psi_default if psi is None else checked_psi(psi)
    low, high = explorer.psi_range
    slider = float_slider(explorer.truncation_name, low, high, low)
    reach(slider, value)
    reach(slider, explorer.psi_default)
    slider.value = value
    return slider
