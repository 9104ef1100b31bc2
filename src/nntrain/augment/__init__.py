"""Data augmentation on batched image tensors (N, C, H, W), on any device.

Chapter 5 of the book (``book/05_augment.md``) runs on this package; the graded parts of
``a2_regularization`` it teaches are :func:`mixup`, :func:`cutmix`, :func:`cutout`, and
(from :mod:`nntrain.regularization`, re-exported here) :func:`label_smoothing` and
:func:`smoothed_cross_entropy`.

Augmentation is the "add randomness in training, marginalise at test" pattern applied to
the inputs: train on random transforms of each image, and at test time either use the
plain image or average the predictions over a fixed set of transforms (:func:`tta_predict`).

Conventions: images are floating point in [0, 1] (colour ops clamp to that range); a
single image (C, H, W) is accepted wherever a batch is; every random function takes an
optional ``torch.Generator`` and gives the same result for the same generator state (its
numbers are drawn on the generator's device, so a CPU generator gives the same
augmentation of CPU and CUDA batches); inputs are never modified in place. No torchvision:
geometry uses ``affine_grid``/``grid_sample``.

One module per topic, every public name re-exported here (``from nntrain import augment
as A; A.mixup(...)``):

- :mod:`~nntrain.augment.geometry`: :func:`hflip`, :func:`random_hflip`, :func:`resize`,
  :func:`crop_resize`, :func:`random_crop`, :func:`random_resized_crop`,
  :func:`scale_jitter`, :func:`rotate`, :func:`shear`, :func:`translate`.
- :mod:`~nntrain.augment.tta`: :func:`center_crop`, :func:`five_crop`, :func:`ten_crop`,
  :func:`tta_predict`.
- :mod:`~nntrain.augment.colour`: :func:`grayscale`, :func:`adjust_brightness`,
  :func:`adjust_contrast`, :func:`adjust_saturation`, :func:`adjust_hue`,
  :func:`color_jitter`, :func:`rgb_pca`, :func:`fancy_pca`, :func:`autocontrast`,
  :func:`equalize`, :func:`solarize`, :func:`posterize`, :func:`adjust_sharpness`.
- :mod:`~nntrain.augment.randaugment`: :data:`RAND_AUGMENT_OPS`, :data:`MAX_MAGNITUDE`,
  :func:`rand_augment`, :class:`RandAugment`.
- :mod:`~nntrain.augment.erasing`: :func:`cutout`, :func:`random_erasing`.
- :mod:`~nntrain.augment.mixing`: :func:`mixup`, :func:`cutmix`,
  :class:`BatchTransformLoader`.

Imports between the modules go one way only: all of them use the private helpers of
``_common``; ``tta`` also imports ``geometry``, and ``randaugment`` imports ``geometry`` and
``colour``; no module imports this package.
"""

from nntrain.augment.colour import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    color_jitter,
    equalize,
    fancy_pca,
    grayscale,
    posterize,
    rgb_pca,
    solarize,
)
from nntrain.augment.erasing import cutout, random_erasing
from nntrain.augment.geometry import (
    crop_resize,
    hflip,
    random_crop,
    random_hflip,
    random_resized_crop,
    resize,
    rotate,
    scale_jitter,
    shear,
    translate,
)
from nntrain.augment.mixing import BatchTransformLoader, cutmix, mixup
from nntrain.augment.randaugment import (
    MAX_MAGNITUDE,
    RAND_AUGMENT_OPS,
    RandAugment,
    rand_augment,
)
from nntrain.augment.tta import center_crop, five_crop, ten_crop, tta_predict
from nntrain.regularization import label_smoothing, smoothed_cross_entropy

__all__ = [
    "hflip",
    "random_hflip",
    "resize",
    "crop_resize",
    "random_crop",
    "random_resized_crop",
    "scale_jitter",
    "center_crop",
    "five_crop",
    "ten_crop",
    "tta_predict",
    "rotate",
    "shear",
    "translate",
    "grayscale",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
    "color_jitter",
    "rgb_pca",
    "fancy_pca",
    "autocontrast",
    "equalize",
    "solarize",
    "posterize",
    "adjust_sharpness",
    "MAX_MAGNITUDE",
    "RAND_AUGMENT_OPS",
    "rand_augment",
    "RandAugment",
    "cutout",
    "random_erasing",
    "mixup",
    "cutmix",
    "label_smoothing",
    "smoothed_cross_entropy",
    "BatchTransformLoader",
]
