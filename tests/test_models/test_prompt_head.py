"""SAM mask decoder (equivalence with the official code, HF key layout), the prompt mask head
(gradients, learning, targets, prediction) and the RoI head inside mmdet's Mask R-CNN."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmrsfm.models.converters import convert_sam_decoder
from mmrsfm.models.heads import SamMaskDecoder, SamPositionalEmbedding

# Every HF `facebook/sam-vit-base` mask_decoder.* tensor shape, by name pattern (i = block or MLP index).
HF_DECODER_SHAPES = {
    'iou_token.weight': (1, 256), 'mask_tokens.weight': (4, 256),
    'upscale_conv1.weight': (256, 64, 2, 2), 'upscale_conv1.bias': (64, ),
    'upscale_conv2.weight': (64, 32, 2, 2), 'upscale_conv2.bias': (32, ),
    'upscale_layer_norm.weight': (64, ), 'upscale_layer_norm.bias': (64, ),
    'transformer.layer_norm_final_attn.weight': (256, ), 'transformer.layer_norm_final_attn.bias': (256, ),
    **{f'transformer.final_attn_token_to_image.{p}_proj.weight': (128, 256) for p in 'qkv'},
    'transformer.final_attn_token_to_image.out_proj.weight': (256, 128),
    **{f'output_hypernetworks_mlps.{m}.proj_in.weight': (256, 256) for m in range(4)},
    **{f'output_hypernetworks_mlps.{m}.layers.0.weight': (256, 256) for m in range(4)},
    **{f'output_hypernetworks_mlps.{m}.proj_out.weight': (32, 256) for m in range(4)},
    'iou_prediction_head.proj_in.weight': (256, 256), 'iou_prediction_head.layers.0.weight': (256, 256),
    'iou_prediction_head.proj_out.weight': (4, 256),
    **{f'transformer.layers.{i}.self_attn.{p}_proj.weight': (256, 256) for i in range(2) for p in 'qkv'},
    **{f'transformer.layers.{i}.cross_attn_token_to_image.{p}_proj.weight': (128, 256)
       for i in range(2) for p in 'qkv'},
    **{f'transformer.layers.{i}.cross_attn_image_to_token.out_proj.weight': (256, 128) for i in range(2)},
    **{f'transformer.layers.{i}.mlp.lin1.weight': (2048, 256) for i in range(2)},
    **{f'transformer.layers.{i}.mlp.lin2.weight': (256, 2048) for i in range(2)},
    **{f'transformer.layers.{i}.layer_norm{n}.weight': (256, ) for i in range(2) for n in range(1, 5)},
}


@pytest.fixture
def one_thread():
    """Tiny models train faster on one intra-op thread, far faster on busy cores (see conftest.SINGLE_THREAD)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_decoder_has_sam_vit_base_layout():
    decoder = SamMaskDecoder()
    shapes = {k: tuple(v.shape) for k, v in decoder.state_dict().items()}
    assert {k: shapes.get(k) for k in HF_DECODER_SHAPES} == HF_DECODER_SHAPES
    assert sum(p.numel() for p in decoder.parameters()) == 4_058_340  # SAM's published decoder size


def test_positional_grid_is_sams_image_wide_encoding():
    pe = SamPositionalEmbedding(8)
    h, w = 3, 5
    ones = torch.ones(h, w)
    coords = torch.stack([(ones.cumsum(1) - 0.5) / w, (ones.cumsum(0) - 0.5) / h], -1)  # SAM's recipe
    proj = (2 * coords - 1) @ pe.positional_embedding * 2 * torch.pi
    expected = torch.cat([proj.sin(), proj.cos()], -1).permute(2, 0, 1)[None]
    torch.testing.assert_close(pe.grid((h, w)), expected)


def test_decoder_matches_official_segment_anything():
    sam = pytest.importorskip('segment_anything.modeling')
    torch.manual_seed(0)
    ref = sam.MaskDecoder(transformer_dim=32, transformer=sam.TwoWayTransformer(depth=2, embedding_dim=32,
                                                                              num_heads=4, mlp_dim=64))
    ref_pe = sam.prompt_encoder.PositionEmbeddingRandom(16)
    for p in ref.parameters():  # away from the default init so every path matters
        torch.nn.init.normal_(p, std=0.2)
    official = {f'mask_decoder.{k}': v for k, v in ref.state_dict().items()}
    official['prompt_encoder.pe_layer.positional_encoding_gaussian_matrix'] = ref_pe.positional_encoding_gaussian_matrix
    official['prompt_encoder.no_mask_embed.weight'] = torch.randn(1, 32)
    converted, dropped = convert_sam_decoder(official, prefix='')
    assert dropped == []  # the decoder, its positional encoding and no_mask_embed: all used
    ours, pe = SamMaskDecoder(dim=32, num_heads=4, mlp_dim=64, eps=1e-5), SamPositionalEmbedding(32)
    ours.load_state_dict({k[len('mask_decoder.'):]: v for k, v in converted.items() if k.startswith('mask_')})
    pe.load_state_dict({'positional_embedding': converted['pos_embed.positional_embedding']})
    image, sparse, dense = torch.randn(1, 32, 6, 7), torch.randn(3, 5, 32), torch.randn(3, 32, 6, 7)
    torch.testing.assert_close(pe.grid((6, 7)), ref_pe((6, 7))[None])
    for multimask in (False, True):
        want = ref(image, ref_pe((6, 7))[None], sparse, dense, multimask)
        got = ours(image.expand(3, -1, -1, -1), pe.grid((6, 7)), sparse, dense, multimask)
        torch.testing.assert_close(got[0], want[0], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(got[1], want[1], rtol=1e-5, atol=1e-5)

    # box prompts: SAM's prompt encoder vs PromptMaskHead.box_prompts, weights through the converter
    encoder = sam.PromptEncoder(embed_dim=32, image_embedding_size=(6, 7), input_image_size=(96, 112),
                                mask_in_chans=4)
    official = {f'prompt_encoder.{k}': v for k, v in encoder.state_dict().items()}
    official.update({f'mask_decoder.{k}': v for k, v in ref.state_dict().items()})
    head = tiny_head(box_prompt=True)
    converted, dropped = convert_sam_decoder(official, prefix='')
    head.load_state_dict(converted, strict=False)
    assert dropped == sorted(f'prompt_encoder.{k}' for k in encoder.state_dict() if not k.startswith((
        'pe_layer.', 'no_mask_embed.', 'point_embeddings.2.', 'point_embeddings.3.')))
    boxes = torch.tensor([[3., 5., 60., 90.], [0., 0., 111., 95.]])
    torch.testing.assert_close(head.box_prompts(boxes, (96, 112)), encoder._embed_boxes(boxes))


def tiny_head(**kwargs):
    from mmrsfm.registry import MODELS
    cfg = dict(type='mmrsfm.PromptMaskHead', in_channels=32, roi_feat_size=6, num_points=3,
               decoder=dict(num_heads=4, mlp_dim=64))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_prompt_head_masks_each_roi_on_its_own_image():
    torch.manual_seed(0)
    head = tiny_head(loss_iou_weight=1.0).eval()
    embed, roi_feats = torch.randn(2, 32, 5, 7), torch.randn(3, 32, 6, 6)
    rois = torch.tensor([[1., 0, 0, 30, 20], [0., 10, 10, 40, 70], [1., 50, 5, 100, 60]])
    logits, iou = head(roi_feats, embed, rois)
    assert logits.shape == (3, 1, 20, 28) and iou.shape == (3, 1)
    alone, _ = head(roi_feats[1:2], embed[0:1], rois[1:2] * torch.tensor([0., 1, 1, 1, 1]))  # the batch changes nothing
    torch.testing.assert_close(logits[1:2], alone)
    empty, _ = head(roi_feats[:0], embed, rois[:0])
    assert empty.shape == (0, 1, 20, 28)


def test_box_prompt_encodes_the_box_corners_as_sam_does():
    head = tiny_head(box_prompt=True)
    boxes = torch.tensor([[16., 8., 48., 40.]])
    tokens = head.box_prompts(boxes, (64, 128))
    corners = torch.tensor([[[16.5 / 128, 8.5 / 64], [48.5 / 128, 40.5 / 64]]])  # pixel centres (x, y) / (W, H)
    torch.testing.assert_close(tokens, head.pos_embed(corners) + head.box_corner_embed.weight)
    embed, roi_feats = torch.randn(1, 32, 4, 8), torch.randn(2, 32, 6, 6)
    rois = torch.tensor([[0., 16, 8, 48, 40], [0., 64, 8, 96, 40]])
    moved = head(roi_feats[:1].expand(2, -1, -1, -1), embed, rois)[0]
    assert not torch.allclose(moved[0], moved[1])  # same features, different box: different masks


def test_prompt_head_targets_are_padded_and_area_averaged():
    from mmdet.structures.mask import BitmapMasks
    head = tiny_head(mask_stride=4)
    mask = torch.zeros(1, 10, 14)  # an image smaller than the padded batch (4 x 8 cells of 4 px -> 16 x 32)
    mask[0, 0:4, 4:6] = 1
    gt = InstanceData(masks=BitmapMasks(mask.numpy(), 10, 14))
    res = InstanceData(pos_assigned_gt_inds=torch.tensor([0, 0]), pos_priors=torch.zeros(2, 4))
    targets = head.get_targets([res], [gt], (4, 8))
    assert targets.shape == (2, 4, 8)
    expected = torch.zeros(4, 8)
    expected[0, 1] = 0.5  # half of the 4 x 4 cell (rows 0-3, cols 4-7) is object
    torch.testing.assert_close(targets[0], expected)


def test_prompt_head_learns_two_masks(one_thread):
    torch.manual_seed(0)
    head = tiny_head()
    embed, roi_feats, rois = torch.randn(1, 32, 4, 4), torch.randn(2, 32, 6, 6), torch.tensor([[0., 0, 0, 8, 8]] * 2)
    targets = torch.zeros(2, 16, 16)
    targets[0, :8], targets[1, :, 8:] = 1, 1  # top half / right half
    labels = torch.zeros(2, dtype=torch.long)
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = head.loss_mask(head(roi_feats, embed, rois)[0], targets, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses[::8]
    for name, p in head.named_parameters():  # the single-mask path trains all but the ambiguity outputs
        if not name.startswith(('mask_decoder.output_hypernetworks_mlps.1', 'mask_decoder.output_hypernetworks_mlps.2',
                                'mask_decoder.output_hypernetworks_mlps.3', 'mask_decoder.iou_prediction_head')):
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_prompt_head_predicts_image_masks_and_rescales_boxes():
    head = tiny_head(mask_stride=4)
    logits = torch.full((1, 1, 8, 8), -10.0)
    logits[..., :4, :] = 10.0  # top half of the padded 32 x 32 batch
    results = InstanceData(bboxes=torch.tensor([[0., 0., 20., 10.]]), labels=torch.tensor([0]),
                           scores=torch.tensor([0.9]))
    meta = dict(img_shape=(24, 30), ori_shape=(48, 60), scale_factor=(0.5, 0.5))
    out = head.predict_by_feat([logits], [results], [meta], ConfigDict(mask_thr_binary=0.5), rescale=True)[0]
    assert out.masks.shape == (1, 48, 60) and out.masks.dtype == torch.bool
    assert out.masks[0, :30].all() and not out.masks[0, 34:].any()  # 16 of 24 rows, scaled x2
    torch.testing.assert_close(out.bboxes, torch.tensor([[0., 0., 40., 20.]]))


def test_prompt_head_starts_from_a_sam_checkpoint(tmp_path):
    sam_head = tiny_head(box_prompt=True)
    hf = {f'mask_decoder.{k}': v for k, v in sam_head.mask_decoder.state_dict().items()}
    hf.update({'shared_image_embedding.positional_embedding': sam_head.pos_embed.positional_embedding,
               'prompt_encoder.no_mask_embed.weight': sam_head.no_mask_embed.weight.detach(),
               'prompt_encoder.point_embed.2.weight': sam_head.box_corner_embed.weight[:1].detach(),
               'prompt_encoder.point_embed.3.weight': sam_head.box_corner_embed.weight[1:].detach(),
               'vision_encoder.neck.conv1.weight': torch.zeros(1)})  # HF SamModel layout
    torch.save(hf, tmp_path / 'sam.bin')
    head = tiny_head(box_prompt=True, sam_checkpoint=str(tmp_path / 'sam.bin'))
    head.init_weights()
    mine, theirs = head.state_dict(), sam_head.state_dict()
    assert all(torch.equal(mine[k], theirs[k]) for k in theirs if not k.startswith('point_embed.'))
    with pytest.raises(KeyError, match='does not fit this head'):
        tiny_head(in_channels=64, sam_checkpoint=str(tmp_path / 'sam.bin')).init_weights()
