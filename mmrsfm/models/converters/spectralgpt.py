"""Official SpectralGPT checkpoints (Zenodo record 8412455: ``SpectralGPT.pth``, ``SpectralGPT+.pth``)
-> :class:`~mmrsfm.models.backbones.SpectralGPT` / :class:`~mmrsfm.models.pretrainers.SpectralMAE`.

The official pretraining state dict (``ckpt['model']``, possibly ``module.``-prefixed) is that of
``MaskedAutoencoderViT`` in ``models_mae_spectral.py`` (``danfenghong/IEEE_TPAMI_SpectralGPT``): the
encoder (``patch_embed.proj`` (a Conv3d), ``pos_embed_spatial`` (1, h * w, C), ``pos_embed_temporal``
(1, groups, C), ``blocks.i.{norm1,attn.{q,k,v,proj},norm2,mlp.{fc1,fc2}}``, ``norm``) and the decoder
(``decoder_embed``, ``mask_token``, ``decoder_pos_embed_{spatial,temporal}``, ``decoder_blocks.i.*``,
``decoder_norm``, ``decoder_pred``). Our modules use the same names, so conversion is selection and
prefixing; position embeddings of another size (the 96² ``SpectralGPT.pth``) are resized when loaded.

Fine-tuned classifiers (``models_vit_tensor.VisionTransformer``: the encoder keys with one joint
``pos_embed`` (1, groups * h * w, C) instead of the separate ones, ``norm``, and the classifier ``head``)
convert with ``classifier=True`` into a whole mmpretrain ``ImageClassifier`` (``backbone.*``, ``head.fc.*``)
whose backbone is ``SpectralGPT(out_type='avg_token', pos_embed_layout='joint', avg_skip_first_token=True)``.
"""
import re

from .checkpoint_io import ANOTHER_FAMILY, ConversionResult, strip_prefixes, unwrap_state_dict

ENCODER_KEY = re.compile(r'^(patch_embed\.proj\.(weight|bias)|pos_embed_spatial|pos_embed_temporal|'
                         r'blocks\.\d+\.(norm1|norm2|attn\.(q|k|v|proj)|mlp\.(fc1|fc2))\.(weight|bias)|'
                         r'norm\.(weight|bias))$')
DECODER_KEY = re.compile(r'^(decoder_embed\.(weight|bias)|mask_token|decoder_pos_embed_(spatial|temporal)|'
                         r'decoder_blocks\.\d+\.(norm1|norm2|attn\.(q|k|v|proj)|mlp\.(fc1|fc2))\.(weight|bias)|'
                         r'decoder_norm\.(weight|bias)|decoder_pred\.(weight|bias))$')
#: Task heads of the official fine-tuning / downstream models (classifier, SegMunich/OSCD fusion,
#: pyramid and UperNet-like head): dropped, as they belong to another model.
HEAD_KEY = re.compile(r'^(head|fc_norm|fc|conv[0-3]|decoder|cls_seg)\.')
EXPECTED = ("expected an official SpectralGPT pretraining checkpoint (SpectralGPT.pth / SpectralGPT+.pth: keys "
            "like 'patch_embed.proj.weight', 'pos_embed_spatial', 'blocks.0.attn.q.weight', decoder_*)")


#: The official classifier's ``nn.Linear(embed_dim, num_classes)``.
CLASSIFIER_KEY = re.compile(r'^head\.(weight|bias)$')


def convert_spectralgpt(ckpt: dict, with_decoder: bool = False, classifier: bool = False) -> ConversionResult:
    """Convert an official SpectralGPT checkpoint.

    Args:
        ckpt: The loaded checkpoint: ``{'model': state_dict, ...}`` (optimizer state and the rest are
            ignored), or a bare state dict. A ``module.`` prefix (DDP) is stripped.
        with_decoder: Return a :class:`SpectralMAE` state dict (encoder under ``backbone.``, decoder
            keys unchanged) instead of a bare :class:`SpectralGPT` one. Defaults to False.
        classifier: Return a whole mmpretrain ``ImageClassifier`` state dict from a fine-tuned classifier:
            encoder keys under ``backbone.`` (the joint ``pos_embed`` kept, for ``pos_embed_layout=
            'joint'``; separate embeddings, if the classifier was trained with ``sep_pos_embed=True``,
            for the default layout) and ``head.{weight,bias}`` as ``head.fc.*`` (a ``LinearClsHead``).
            Defaults to False.

    Returns:
        ``(state_dict, dropped)``: the state dict for a strict ``load_state_dict`` (SpectralGPT with
        ``spectral_fusion='mean'`` and ``out_type='featmap'``; other dense options add fresh
        ``spectral_fuse.*``/``pyramid.*`` parameters, which are not in any released checkpoint), and
        the sorted source keys left out on purpose (task heads; the decoder unless ``with_decoder``).

    Raises:
        KeyError: on keys that are neither encoder, decoder nor a known task head (another layout), or
            when the encoder (or, with ``with_decoder``, the decoder) is missing.
        ValueError: on a joint ``pos_embed`` (official fine-tuning models with ``sep_pos_embed=False``)
            without ``classifier``, as it cannot be split back into spatial and spectral parts; on
            ``classifier`` together with ``with_decoder``.
    """
    if classifier and with_decoder:
        raise ValueError('classifier=True and with_decoder=True: a classifier has no MAE decoder; pick one '
                         '(CLI: --classifier or --with-decoder)')
    prefix = 'backbone.' if with_decoder or classifier else ''
    out, dropped, unknown, joint_pos, found_dec = {}, [], [], None, False
    for raw, value in unwrap_state_dict(ckpt).items():
        key = strip_prefixes(raw, ('module.', ))
        if key == 'pos_embed' and classifier:
            out[prefix + key] = value
        elif key == 'pos_embed':  # judged below, once the rest shows whether this is SpectralGPT at all
            joint_pos = raw
            unknown.append(raw)
        elif classifier and CLASSIFIER_KEY.match(key):
            out['head.fc.' + key[len('head.'):]] = value
        elif ENCODER_KEY.match(key):
            out[prefix + key] = value
        elif DECODER_KEY.match(key):
            found_dec = True
            if with_decoder:
                out[key] = value
            else:
                dropped.append(raw)
        elif HEAD_KEY.match(key):
            dropped.append(raw)
        else:
            unknown.append(raw)
    # Separate q/k/v projections are SpectralGPT's own: with them, a joint pos_embed is the official
    # fine-tuning model's, which builds one never loaded from pretraining (danfenghong/IEEE_TPAMI_SpectralGPT
    # issue #32), so it holds no pretrained positions to split into spatial and spectral parts.
    if joint_pos is not None and prefix + 'blocks.0.attn.q.weight' in out:
        raise ValueError(f"'{joint_pos}': a joint position embedding (an official fine-tuning model built with "
                         'sep_pos_embed=False); convert the pretraining checkpoint SpectralGPT(+).pth for a '
                         'backbone, or convert this one with classifier=True (CLI: --classifier) for a whole '
                         "ImageClassifier with pos_embed_layout='joint'")
    if unknown:
        raise KeyError(f'not SpectralGPT keys: {unknown[:8]}{" ..." if len(unknown) > 8 else ""}; {EXPECTED}; '
                       f'{ANOTHER_FAMILY}')
    if prefix + 'patch_embed.proj.weight' not in out or prefix + 'blocks.0.attn.q.weight' not in out:
        raise KeyError(f'no SpectralGPT encoder keys (patch_embed.proj.weight, blocks.0.attn.q.weight) found; '
                       f'{EXPECTED}; {ANOTHER_FAMILY}')
    if classifier and 'head.fc.weight' not in out:
        raise KeyError("classifier=True but the checkpoint has no classifier head ('head.weight', 'head.bias' of "
                       'models_vit_tensor.VisionTransformer): it is a pretraining or dense checkpoint; convert '
                       'without classifier (CLI: without --classifier) for a backbone and train a head on it')
    if classifier and prefix + 'pos_embed' not in out and prefix + 'pos_embed_spatial' not in out:
        raise KeyError("classifier=True but the checkpoint has no position embedding ('pos_embed', or "
                       "'pos_embed_spatial' + 'pos_embed_temporal'); expected an official SpectralGPT "
                       'fine-tuned classifier (models_vit_tensor.VisionTransformer)')
    if with_decoder and not found_dec:
        raise KeyError('with_decoder=True but the checkpoint has no decoder_* keys (a fine-tuned encoder?); '
                       'convert without with_decoder (CLI: without --with-decoder) for a backbone')
    return out, sorted(dropped)
