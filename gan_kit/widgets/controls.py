"""Slider helpers shared by the widgets: sliders built one way, and set beyond their range."""

from __future__ import annotations

import ipywidgets as widgets


def int_slider(description: str, low: int, high: int, value: int) -> widgets.IntSlider:
    return widgets.IntSlider(
        description=description, min=low, max=high, value=value, continuous_update=True
    )


def float_slider(description: str, low: float, high: float, value: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        description=description, min=low, max=high, step=0.01, value=value, readout_format=".2f"
    )


def reach(slider: widgets.IntSlider | widgets.FloatSlider, value: float) -> None:
    """Set `value`, widening the slider's range if needed (sliders clamp silently)."""
    slider.max, slider.min = max(slider.max, value), min(slider.min, value)
    slider.value = value
