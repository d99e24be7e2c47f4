"""Segment Anything checkpoints -> mmrsfm modules: the image encoder as a SAM-like
:class:`~mmrsfm.models.ScalableViT` (the RS4D distillation teacher) and the mask decoder as
:class:`~mmrsfm.models.heads.PromptMaskHead`'s.

Source layouts: the official release (``facebookresearch/segment-anything``, ``sam_vit_{b,l,h}_*.pth``:
``image_encoder.*``, ``prompt_encoder.*``, ``mask_decoder.*``) and, for the decoder, Hugging Face
``transformers``' ``SamModel`` (``facebook/sam-vit-base``: ``vision_encoder.*``, ``prompt_encoder.*``,
``mask_decoder.*``, ``shared_image_embedding.*``), whose decoder names
:class:`~mmrsfm.models.heads.SamMaskDecoder` uses.
"""
import torch

from .checkpoint_io import ANOTHER_FAMILY, ConversionResult, unwrap_state_dict

_OFFICIAL = 'an official SAM checkpoint (facebookresearch/segment-anything sam_vit_{b,l,h}_*.pth'
EXPECTED_SAM = f"expected {_OFFICIAL}: keys like 'image_encoder.blocks.0.attn.qkv.weight')"
EXPECTED_SAM_DECODER = (f"expected {_OFFICIAL}: keys like 'mask_decoder.transformer.layers.0.norm1.weight') or a "
                        "Hugging Face SamModel state dict (facebook/sam-vit-base: 'mask_decoder.*', "
                        "'shared_image_embedding.positional_embedding')")


def convert_sam_image_encoder(ckpt: dict) -> ConversionResult:
    """SAM's image encoder (official ``sam_vit_*.pth``, keys ``image_encoder.*``) -> a
    :class:`~mmrsfm.models.ScalableViT` built SAM-like (``use_rel_pos=True``, ``window_size=14``,
    ``final_norm=False``, ``img_size=1024``): the MLP's ``lin1``/``lin2`` become ``fc1``/``fc2``;
    ``pos_embed`` is already a (1, 64, 64, C) grid.

    Returns:
        ``(state_dict, dropped)``: ScalableViT keys, and the sorted source keys left out: the
        convolutional ``image_encoder.neck.*`` (768 -> 256, no ScalableViT counterpart; the distillation
        target is the last block's output), the prompt encoder and the mask decoder.

    Raises:
        KeyError: no SAM image encoder in the checkpoint.
    """
    out, dropped = {}, []
    for k, v in unwrap_state_dict(ckpt).items():
        if not k.startswith('image_encoder.') or k.startswith('image_encoder.neck.'):
            dropped.append(k)
            continue
        out[k[len('image_encoder.'):].replace('.mlp.lin1.', '.mlp.fc1.').replace('.mlp.lin2.', '.mlp.fc2.')] = v
    if 'patch_embed.proj.weight' not in out or not any(k.startswith('blocks.') for k in out):
        raise KeyError(f"no SAM image encoder ('image_encoder.patch_embed.proj.weight', 'image_encoder.blocks.*') "
                       f'found; {EXPECTED_SAM}; {ANOTHER_FAMILY}')
    return out, sorted(dropped)


def _official_to_hf_decoder_key(key: str, num_mlp_layers: int = 3) -> str:
    """One ``mask_decoder.*`` key of the official SAM checkpoint in HF's naming (the renames of HF's
    ``convert_sam_to_hf.py``: norms, the upscaling Sequential, and the MLPs' first/last layers)."""
    key = key.replace('.norm_final_attn.', '.layer_norm_final_attn.')
    for i in range(1, 5):
        key = key.replace(f'.norm{i}.', f'.layer_norm{i}.')
    key = key.replace('output_upscaling.0.', 'upscale_conv1.').replace('output_upscaling.1.', 'upscale_layer_norm.')
    key = key.replace('output_upscaling.3.', 'upscale_conv2.')
    parts = key.split('.')
    if ('output_hypernetworks_mlps' in key or 'iou_prediction_head' in key) and 'layers' in parts:
        i = parts.index('layers')
        n = int(parts[i + 1])
        last = num_mlp_layers - 1
        parts[i:i + 2] = ['proj_in'] if n == 0 else ['proj_out'] if n == last else ['layers', str(n - 1)]
        key = '.'.join(parts)
    return key


def convert_sam_decoder(ckpt: dict, prefix: str = 'mask_head.') -> ConversionResult:
    """Map the decoder part of a SAM checkpoint onto :class:`~mmrsfm.models.heads.PromptMaskHead`
    keys under ``prefix``. Both layouts are accepted:

    - Hugging Face ``SamModel`` (e.g. ``facebook/sam-vit-base``): ``mask_decoder.*`` ->
      ``{prefix}mask_decoder.*``; ``shared_image_embedding.positional_embedding`` ->
      ``{prefix}pos_embed.positional_embedding``; ``prompt_encoder.no_mask_embed.weight`` ->
      ``{prefix}no_mask_embed.weight``.
    - The official release (``sam_vit_b_01ec64.pth``): ``mask_decoder.*`` renamed as HF does,
      ``prompt_encoder.pe_layer.positional_encoding_gaussian_matrix`` -> the positional buffer.

    The box-corner point embeddings (official ``prompt_encoder.point_embeddings.{2,3}.weight``, HF
    ``prompt_encoder.point_embed.{2,3}.weight``) become ``{prefix}box_corner_embed.weight`` (2, C).

    Returns:
        ``(state_dict, dropped)``: the head's keys, and the sorted source keys left out (the image
        encoder and the rest of the prompt encoder).

    Raises:
        KeyError: no ``mask_decoder.*`` keys in the checkpoint.
    """
    sd = unwrap_state_dict(ckpt)
    official = 'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix' in sd
    point = 'prompt_encoder.point_embeddings.{}.weight' if official else 'prompt_encoder.point_embed.{}.weight'
    out, used = {}, set()
    corners = [point.format(i) for i in (2, 3)]
    if all(k in sd for k in corners):
        out[prefix + 'box_corner_embed.weight'] = torch.cat([sd[k] for k in corners])
        used.update(corners)
    for k, v in sd.items():
        if k.startswith('mask_decoder.'):
            out[prefix + (_official_to_hf_decoder_key(k) if official else k)] = v
        elif k in ('shared_image_embedding.positional_embedding',
                   'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix'):
            out[prefix + 'pos_embed.positional_embedding'] = v
        elif k == 'prompt_encoder.no_mask_embed.weight':
            out[prefix + 'no_mask_embed.weight'] = v
        else:  # the image encoder, the rest of the prompt encoder (and the corners, used above)
            continue
        used.add(k)
    if not any(k.startswith(prefix + 'mask_decoder.') for k in out):
        raise KeyError(f"no 'mask_decoder.*' keys found: not a SAM state dict; {EXPECTED_SAM_DECODER}; "
                       f'{ANOTHER_FAMILY}')
    return out, sorted(k for k in sd if k not in used)
