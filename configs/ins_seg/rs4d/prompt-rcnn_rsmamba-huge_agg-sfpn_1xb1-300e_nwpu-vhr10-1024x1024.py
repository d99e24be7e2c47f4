# As prompt-rcnn_rsmamba-base_agg-sfpn_1xb1-300e_nwpu-vhr10-1024x1024, on RSMamba-huge (32 layers, d_inner 640).
_base_ = ['./prompt-rcnn_rsmamba-base_agg-sfpn_1xb1-300e_nwpu-vhr10-1024x1024.py']
model = dict(
    backbone=dict(arch='huge', init_cfg=dict(
        checkpoint='work_dirs/distill_rsmamba-huge_sam-vit-b_4xb4-20e_sa1b-1024/epoch_20.pth')),
    neck=[
        dict(type='mmrsfm.LayerAggregator', in_channels=256, layer_indices=list(range(2, 32, 2)),
             hidden_channels=32, out_channels=256),
        dict(type='mmrsfm.SimpleFPN', in_channels=256, out_channels=256, num_outs=5),
    ])
