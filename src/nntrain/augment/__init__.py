"""Data augmentation on batched images (N, C, H, W); being split into one module per topic."""

from nntrain.augment.geometry import *  # noqa: F403
from nntrain.augment.geometry import __all__  # noqa: F401
