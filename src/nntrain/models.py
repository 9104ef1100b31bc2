"""Small models the book trains: an MLP, a small CNN and a small ResNet.

Every model is split the same way, ``model.features`` (everything up to the last hidden
representation, ending in a flat (N, D) tensor) and ``model.head`` (one ``nn.Linear`` to the
classes), so :mod:`nntrain.transfer` can freeze the features, probe them linearly or swap the head
without knowing the architecture. Normalisation and dropout are PyTorch's own modules
(``nn.BatchNorm1d/2d``, ``nn.Dropout``), the reference that :mod:`nntrain.regularization`
re-implements for teaching.

Public names
------------
MLP
    Fully connected network: ``depth`` hidden layers Linear → [BatchNorm] → activation → [Dropout].
SmallCNN
    Stages of two 3×3 convolutions (+BatchNorm, activation) and 2×2 max pooling, global average
    pooling, a linear head.
SmallResNet
    Residual network of basic blocks (He et al., 2016) with stochastic depth (Huang et al., 2016)
    and zero-init of the last BatchNorm of each residual branch (Goyal et al., 2017).
BasicBlock
    The two-convolution residual block of :class:`SmallResNet`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["MLP", "BasicBlock", "SmallCNN", "SmallResNet"]

InitSpec = str | Callable[[nn.Module], object] | None


def _activation(name: str) -> nn.Module:
    """An activation module by name, from :func:`nntrain.activations.get_activation`."""
    from nntrain.activations import get_activation

    return get_activation(name)


def _initialise(model: nn.Module, init: InitSpec, activation: str = "relu") -> None:
    """Apply ``init``: None keeps PyTorch's defaults, a callable is applied to the model, a
    string names a scheme of :func:`nntrain.init.init_weights_`, whose gain follows the
    model's activation where :func:`nntrain.init.calculate_gain` knows it (else ReLU's)."""
    if init is None:
        return
    if callable(init):
        init(model)
        return
    from nntrain.init import calculate_gain, init_weights_

    try:
        calculate_gain(activation)
        nonlinearity = activation
    except ValueError:
        nonlinearity = "relu"
    init_weights_(model, init, nonlinearity=nonlinearity)


class MLP(nn.Module):
    """A fully connected classifier.

    ``depth`` hidden layers of ``width`` units, each
    :math:`h_{l} = \\mathrm{drop}(\\phi(\\mathrm{norm}(W_l h_{l-1} + b_l)))`, then a linear head
    :math:`z = W_{\\text{out}} h_{\\text{depth}} + b_{\\text{out}}` giving logits. Inputs of any
    shape (N, ...) are flattened first, so 1×8×8 images and 64-vectors both work.

    Args:
        in_features: number of input features (64 for the digits).
        num_classes: number of outputs (logits).
        width: units per hidden layer.
        depth: number of hidden layers (0 gives a linear classifier).
        activation: name understood by :func:`nntrain.activations.get_activation`.
        init: None (PyTorch's default), a scheme of :func:`nntrain.init.init_weights_`
            such as ``"xavier"`` or ``"kaiming"``, or a callable applied to the model.
        norm: None or ``"batch"`` (``nn.BatchNorm1d`` before the activation; Ioffe & Szegedy,
            2015, "Batch Normalization").
        dropout: probability of zeroing a hidden unit (``nn.Dropout``; Srivastava et al., 2014).

    Hidden layers are named ``features.fc1``, ``features.norm1``, ``features.act1``,
    ``features.drop1``, …; the output layer is ``head``.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        width: int = 128,
        depth: int = 3,
        activation: str = "relu",
        init: InitSpec = None,
        norm: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if norm not in (None, "batch"):
            raise ValueError(f"norm must be None or 'batch', got {norm!r}")
        if depth < 0 or width < 1:
            raise ValueError(f"need depth >= 0 and width >= 1, got depth={depth}, width={width}")
        layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
        size = in_features
        for i in range(1, depth + 1):
            layers[f"fc{i}"] = nn.Linear(size, width)
            if norm == "batch":
                layers[f"norm{i}"] = nn.BatchNorm1d(width)
            layers[f"act{i}"] = _activation(activation)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(dropout)
            size = width
        self.features = nn.Sequential(layers)
        self.head = nn.Linear(size, num_classes)
        self.out_features = size  # width of the representation the head sees
        _initialise(self, init, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _conv_bn_act(c_in: int, c_out: int, activation: str, norm: str | None, stride: int = 1):
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=norm is None)
    ]
    if norm == "batch":
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(_activation(activation))
    return layers


class SmallCNN(nn.Module):
    """A VGG-style small convolutional classifier.

    Each stage is [3×3 conv → BatchNorm → activation] × 2 followed by 2×2 max pooling (Simonyan &
    Zisserman, 2015, "Very Deep Convolutional Networks"); then global average pooling (Lin et al.,
    2014, "Network in Network"), optional dropout and a linear head. Two stages turn an 8×8 digit
    into a 2×2 map and a 32×32 CIFAR image into 8×8.

    Args:
        in_channels: 1 for the digits, 3 for colour images.
        num_classes: number of logits.
        widths: channels of each stage (one stage per entry).
        activation: name for :func:`nntrain.activations.get_activation`.
        norm: ``"batch"`` or None.
        dropout: dropout before the head.
        init: as for :class:`MLP`.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        widths: Sequence[int] = (32, 64),
        activation: str = "relu",
        norm: str | None = "batch",
        dropout: float = 0.0,
        init: InitSpec = None,
    ) -> None:
        super().__init__()
        if norm not in (None, "batch"):
            raise ValueError(f"norm must be None or 'batch', got {norm!r}")
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = in_channels
        for i, c_out in enumerate(widths, start=1):
            stages[f"stage{i}"] = nn.Sequential(
                *_conv_bn_act(c_in, c_out, activation, norm),
                *_conv_bn_act(c_out, c_out, activation, norm),
                nn.MaxPool2d(2, ceil_mode=True),
            )
            c_in = c_out
        stages["pool"] = nn.AdaptiveAvgPool2d(1)
        stages["flatten"] = nn.Flatten()
        if dropout > 0:
            stages["drop"] = nn.Dropout(dropout)
        self.features = nn.Sequential(stages)
        self.head = nn.Linear(c_in, num_classes)
        self.out_features = c_in
        _initialise(self, init, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth on a residual branch, from :func:`nntrain.regularization.drop_path`."""
    from nntrain.regularization import drop_path

    return drop_path(x, p, training)


class BasicBlock(nn.Module):
    """Residual basic block :math:`y = \\phi(x' + \\mathrm{drop}(F(x)))` (He et al., 2016).

    :math:`F` is conv3×3 → BN → activation → conv3×3 → BN; the shortcut :math:`x'` is the input,
    or a strided 1×1 convolution + BN where the shape changes. With probability ``drop_path`` the
    branch is skipped for a whole example during training and scaled by :math:`1/(1-p)` otherwise
    (stochastic depth, Huang et al., 2016, "Deep Networks with Stochastic Depth", in the inverted
    form of timm's ``DropPath``).
    """

    def __init__(
        self, c_in: int, c_out: int, stride: int = 1, drop_path: float = 0.0,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.act1 = _activation(activation)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)  # zero-init target: gamma = 0 makes the block identity
        self.act2 = _activation(activation)
        self.drop_path = drop_path
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    @torch.no_grad()
    def zero_init_last(self) -> None:
        """:math:`\\gamma = 0` in the branch's last BatchNorm: the block starts as
        :math:`\\phi(x')` (called by :func:`nntrain.init.zero_init_residual_`)."""
        self.bn2.weight.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        if self.drop_path > 0:
            branch = _drop_path(branch, self.drop_path, self.training)
        return self.act2(self.shortcut(x) + branch)


class SmallResNet(nn.Module):
    """A CIFAR-style ResNet (He et al., 2016, "Deep Residual Learning for Image Recognition").

    Stem conv3×3 → BN → activation, then one stage per entry of ``widths`` with ``blocks[i]``
    :class:`BasicBlock` s (stride 2 at the start of every stage but the first), global average
    pooling and a linear head.

    Args:
        in_channels, num_classes: input channels and number of logits.
        widths: channels per stage.
        blocks: basic blocks per stage (same length as ``widths``).
        drop_path: stochastic-depth probability of the *last* block; block :math:`l` of
            :math:`L` uses :math:`p_l = p \\cdot l / L` (linear decay rule, Huang et al., 2016).
        zero_init_residual: set the scale :math:`\\gamma` of the last BatchNorm of every residual
            branch to 0, so each block starts as the identity (Goyal et al., 2017, "Accurate,
            Large Minibatch SGD").
        activation: name for :func:`nntrain.activations.get_activation`.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        widths: Sequence[int] = (16, 32, 64),
        blocks: Sequence[int] = (1, 1, 1),
        drop_path: float = 0.0,
        zero_init_residual: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if len(widths) != len(blocks):
            raise ValueError(f"widths {tuple(widths)} and blocks {tuple(blocks)} differ in length")
        total = sum(blocks)
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            stem=nn.Sequential(*_conv_bn_act(in_channels, widths[0], activation, "batch"))
        )
        c_in, index = widths[0], 0
        for s, (c_out, n) in enumerate(zip(widths, blocks, strict=True), start=1):
            stage = []
            for b in range(n):
                index += 1
                stride = 2 if (s > 1 and b == 0) else 1
                stage.append(BasicBlock(c_in, c_out, stride, drop_path * index / total, activation))
                c_in = c_out
            layers[f"stage{s}"] = nn.Sequential(*stage)
        layers["pool"] = nn.AdaptiveAvgPool2d(1)
        layers["flatten"] = nn.Flatten()
        self.features = nn.Sequential(layers)
        self.head = nn.Linear(c_in, num_classes)
        self.out_features = c_in
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            from nntrain.init import zero_init_residual_

            zero_init_residual_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
