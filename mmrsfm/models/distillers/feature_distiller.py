"""RS4D feature distillation: a frozen ViT teacher's features -> a (linear-time SSM) student backbone.

RS4D (Yang et al., "Efficient Remote Sensing Instance Segmentation with Linear-Time State Space
Distilled Visual Foundation Models"; official code ``QinzheYang/RS4D``) distils SAM ViT-B's image
embedding into an RSMamba student with an L1 loss on the aligned token maps, the student seeing a
degraded copy of the image ("adaptive noise and masking knowledge distillation"). The official script
is not released; what the released logs and run names show (L1, a per-token mean, fixed settings
20/20, 10/0, 0/10, 30/30 percent noise/mask) is kept, and the unpublished "adaptive" part is defined
here as a curriculum:

* **Noise**: ``x_s = x + sigma * N(0, 1)`` on the *normalised* image, so sigma is in units of the
  dataset's per-band standard deviation (20 % noise = ``sigma = 0.2``).
* **Masking**: a random share ``rho`` of the ``mask_patch_size`` patches of each image (exactly
  ``round(rho L)`` of its L patches) is set to 0 in the normalised image, i.e. to the dataset mean
  colour. Pixels, not tokens, are masked, so any backbone can be the student (no mask token needed).
* **Schedule**: ``noise_std`` and ``mask_ratio`` are each a number (fixed) or a ``(start, end)`` pair
  ramped with training progress ``p = iter / max_iters`` (read from mmengine's message hub):
  ``v(p) = start + (end - start) * r(min(p / ramp_fraction, 1))`` with ``r`` linear or cosine
  (``0.5 - 0.5 cos(pi t)``). The student first matches the teacher on clean images, then on
  progressively harder ones. Outside a runner (no ``max_iters``) the end values apply.
* **Loss**: ``mean |A(s) - t|`` over tokens and channels (the official log's ``loss``; ``4096 * loss``
  is its sum over the 64 x 64 tokens of a 1024 image), ``A`` a 1x1 conv to the teacher's channels,
  the student's map resized bilinearly to the teacher's grid when they differ.

The teacher (any registered backbone, loaded strictly from ``teacher_checkpoint``) stays frozen and
in eval mode. The student is saved under ``student.``: downstream configs load it with
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='student.')``.
"""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

from mmrsfm.registry import MODELS
from ..converters.checkpoint_io import unwrap_state_dict
from ..converters.sam import convert_sam_image_encoder
from ..utils.masking import random_masking

Level = Union[float, Sequence[float]]
IMAGENET_MEAN, IMAGENET_STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def ramp(level: Level, progress: float, ramp_fraction: float = 1.0, mode: str = 'cosine') -> float:
    """The value of a fixed (number) or ramped ``(start, end)`` level at training ``progress`` in [0, 1]."""
    if isinstance(level, (int, float)):
        return float(level)
    start, end = (float(v) for v in level)
    t = min(max(progress, 0.0) / ramp_fraction, 1.0) if ramp_fraction > 0 else 1.0
    if mode == 'cosine':
        t = 0.5 - 0.5 * math.cos(math.pi * t)
    return start + (end - start) * t


def load_teacher(model: nn.Module, checkpoint: str, prefix: str = '') -> None:
    """Load ``checkpoint`` (``state_dict``/``model``/plain dict; keys under ``prefix`` with it
    stripped; an official SAM checkpoint is converted with
    :func:`~mmrsfm.models.converters.convert_sam_image_encoder`) into ``model`` strictly, with an error
    that names the file and the mismatch."""
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = unwrap_state_dict(ckpt, ('state_dict', 'model'))
    if not prefix and any(k.startswith('image_encoder.blocks.') for k in state):
        state, dropped = convert_sam_image_encoder(state)
        print_log(f'FeatureDistiller: {checkpoint} is a SAM checkpoint: using its image encoder ({len(dropped)} '
                  'keys of its neck, prompt encoder and mask decoder dropped)', logger='current')
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise KeyError(f"teacher checkpoint {checkpoint}: no key starts with teacher_prefix '{prefix}'")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise KeyError(f'teacher checkpoint {checkpoint} does not match the teacher config: missing '
                       f'{missing[:5]}{"..." if len(missing) > 5 else ""}, unexpected {unexpected[:5]}'
                       f'{"..." if len(unexpected) > 5 else ""}. Convert it to the backbone layout or set '
                       f"teacher_prefix (e.g. 'backbone.' for a detector / pretrainer checkpoint).")


@MODELS.register_module()
class FeatureDistiller(BaseModel):
    """Noise-and-masking feature distillation of a frozen teacher into a student backbone (RS4D).

    Args:
        student: Student backbone config (e.g. ``mmrsfm.RSMamba``).
        teacher: Teacher backbone config (e.g. a SAM-B-like ``mmrsfm.ScalableViT``).
        teacher_checkpoint: Path of the teacher weights, loaded strictly in :meth:`init_weights`; None
            leaves the teacher as initialised (tests only: a warning is logged).
        teacher_prefix: Prefix of the teacher's keys in the checkpoint, stripped. Defaults to ''.
        student_index: Which student output map is distilled. Defaults to -1.
        teacher_index: Which teacher output map is the target. Defaults to -1.
        student_channels: Channels of that student map; None probes the student once. Defaults to None.
        teacher_channels: Channels of that teacher map; None probes the teacher once. Defaults to None.
        in_channels: Image bands (for the probes). Defaults to 3.
        noise_std: Noise level, fixed or ``(start, end)``. Defaults to (0.0, 0.2).
        mask_ratio: Masked patch share, fixed or ``(start, end)``, in [0, 1). Defaults to (0.0, 0.2).
        ramp_fraction: Share of training over which ramped levels go from start to end. Defaults to 0.5.
        ramp_mode: 'linear' or 'cosine'. Defaults to 'cosine'.
        mask_patch_size: Side of the masked patches (the student's patch size). Defaults to 16.
        modality: Key of the images in the batch (``MultiModalDataPreprocessor`` output). Defaults to 'opt'.
        loss_weight: Weight of the L1 loss. Defaults to 1.
        save_teacher: Keep the frozen teacher in state dicts (checkpoints). False saves only the
            student and projection (``teacher_checkpoint`` restores the teacher on resume). Defaults to False.
        data_preprocessor: Defaults to ``mmrsfm.MultiModalDataPreprocessor`` with ImageNet statistics
            for ``modality`` (3 bands; other band counts must give their own).
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 student: dict,
                 teacher: dict,
                 teacher_checkpoint: Optional[str] = None,
                 teacher_prefix: str = '',
                 student_index: int = -1,
                 teacher_index: int = -1,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 in_channels: int = 3,
                 noise_std: Level = (0.0, 0.2),
                 mask_ratio: Level = (0.0, 0.2),
                 ramp_fraction: float = 0.5,
                 ramp_mode: str = 'cosine',
                 mask_patch_size: int = 16,
                 modality: str = 'opt',
                 loss_weight: float = 1.0,
                 save_teacher: bool = False,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            if in_channels != 3:
                raise ValueError("FeatureDistiller: give data_preprocessor=dict(type='MultiModalDataPreprocessor', "
                                 f'mean=..., std=...) with the statistics of the {in_channels} bands: noise levels '
                                 'are in units of the normalised image')
            data_preprocessor = dict(type='mmrsfm.MultiModalDataPreprocessor', mean={modality: IMAGENET_MEAN},
                                     std={modality: IMAGENET_STD})
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if ramp_mode not in ('linear', 'cosine'):
            raise ValueError(f"ramp_mode must be 'linear' or 'cosine', got {ramp_mode!r}")
        for name, level in (('noise_std', noise_std), ('mask_ratio', mask_ratio)):
            values = [level] if isinstance(level, (int, float)) else list(level)
            if len(values) not in (1, 2) or min(values) < 0 or (name == 'mask_ratio' and max(values) >= 1):
                bound = ' and < 1' if name == 'mask_ratio' else ''
                raise ValueError(f'{name} must be a number or a (start, end) pair, >= 0{bound}, got {level!r}')
        self.student, self.teacher = MODELS.build(student), MODELS.build(teacher)
        self.teacher_checkpoint, self.teacher_prefix = teacher_checkpoint, teacher_prefix
        self.student_index, self.teacher_index = student_index, teacher_index
        self.noise_std, self.mask_ratio = noise_std, mask_ratio
        self.ramp_fraction, self.ramp_mode = ramp_fraction, ramp_mode
        self.mask_patch_size, self.modality, self.loss_weight = mask_patch_size, modality, loss_weight
        if student_channels is None or teacher_channels is None:
            probe = torch.zeros(1, in_channels, 4 * mask_patch_size, 4 * mask_patch_size)
            with torch.no_grad():
                student_channels = student_channels or self.student(probe)[student_index].shape[1]
                teacher_channels = teacher_channels or self.teacher.eval()(probe)[teacher_index].shape[1]
        self.align = nn.Conv2d(student_channels, teacher_channels, 1)
        self._freeze_teacher()
        if not save_teacher:
            self._register_state_dict_hook(self._drop_teacher)

    @staticmethod
    def _drop_teacher(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict) -> dict:
        """State-dict hook: the frozen teacher is not saved (it is 90 M parameters for SAM ViT-B)."""
        for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
            del state_dict[key]
        return state_dict

    def _freeze_teacher(self) -> None:
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad = False

    def init_weights(self) -> None:
        """Initialise the student and projection, then load the teacher (strictly)."""
        super().init_weights()
        if self.teacher_checkpoint is None:
            print_log('FeatureDistiller: teacher_checkpoint is None: distilling a randomly initialised teacher',
                      logger='current', level=30)
        else:
            load_teacher(self.teacher, self.teacher_checkpoint, self.teacher_prefix)
            print_log(f'FeatureDistiller: loaded the teacher from {self.teacher_checkpoint}', logger='current')
        self._freeze_teacher()

    def train(self, mode: bool = True) -> 'FeatureDistiller':
        super().train(mode)
        self.teacher.eval()  # no dropout / drop path / BN updates in the teacher, ever
        return self

    @staticmethod
    def progress() -> Optional[float]:
        """``iter / max_iters`` of the running training loop, None outside one."""
        hub = MessageHub.get_current_instance()
        max_iters = hub.get_info('max_iters')
        if not max_iters:
            return None
        return hub.get_info('iter', 0) / max_iters

    def levels(self, progress: Optional[float] = None) -> Tuple[float, float]:
        """(noise std, mask ratio) at ``progress`` (default: the runner's; end values outside one)."""
        p = self.progress() if progress is None else progress
        p = 1.0 if p is None else p
        return (ramp(self.noise_std, p, self.ramp_fraction, self.ramp_mode),
                ramp(self.mask_ratio, p, self.ramp_fraction, self.ramp_mode))

    def degrade(self, x: torch.Tensor, noise_std: float, mask_ratio: float) -> torch.Tensor:
        """The student's view of a normalised (B, C, H, W) batch: Gaussian noise, then patch masking."""
        if noise_std > 0:
            x = x + noise_std * torch.randn_like(x)
        if mask_ratio > 0:
            p = self.mask_patch_size
            gh, gw = math.ceil(x.shape[2] / p), math.ceil(x.shape[3] / p)
            _, mask, _ = random_masking(x.new_zeros(x.shape[0], gh * gw, 1), mask_ratio)  # (B, L), 1 = masked
            mask = mask.view(-1, 1, gh, gw).repeat_interleave(p, 2).repeat_interleave(p, 3)
            x = x * (1 - mask[:, :, :x.shape[2], :x.shape[3]])
        return x

    def distill(self, x: torch.Tensor, noise_std: float, mask_ratio: float) -> torch.Tensor:
        """L1 between the aligned student map of the degraded batch and the teacher map of ``x``."""
        with torch.no_grad():
            target = self.teacher(x)[self.teacher_index]
        pred = self.align(self.student(self.degrade(x, noise_std, mask_ratio))[self.student_index])
        if pred.shape[2:] != target.shape[2:]:
            pred = F.interpolate(pred, size=target.shape[2:], mode='bilinear', align_corners=False)
        return F.l1_loss(pred, target.to(pred.dtype))

    def _images(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs
        if self.modality not in inputs:
            raise KeyError(f"FeatureDistiller(modality='{self.modality}'): the batch has {sorted(inputs)}; "
                           f'set modality to the image folder modality')
        return inputs[self.modality]

    def loss(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]], data_samples=None) -> Dict[str, torch.Tensor]:
        noise_std, mask_ratio = self.levels()
        loss = self.loss_weight * self.distill(self._images(inputs), noise_std, mask_ratio)
        device = loss.device
        # logged next to the loss (keys without 'loss' are not summed into it)
        return dict(loss_distill=loss, noise_std=torch.tensor(noise_std, device=device),
                    mask_ratio=torch.tensor(mask_ratio, device=device))

    def forward(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]], data_samples=None, mode: str = 'loss'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.student(self._images(inputs))
        if mode == 'predict':
            return self.align(self.student(self._images(inputs))[self.student_index])
        raise ValueError(f"mode must be 'loss', 'tensor' or 'predict', got {mode!r}")
