# FSDP for ScalableViT models through mmengine's FlexibleRunner (tools/train.py builds `runner_type`):
# one FSDP unit per transformer block (mmrsfm.vit_block_auto_wrap_policy), bf16 compute with fp32
# gradient reduction, activation checkpointing per block (mmrsfm.is_vit_block; keep the backbone's
# own with_cp=False), and *full* (consolidated, rank-0) checkpoints so they load downstream with
# init_cfg=dict(type='Pretrained', prefix='backbone.') like any other. FSDP does the mixed precision:
# configs keep a plain OptimWrapper (not AmpOptimWrapper).
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy=dict(type='mmrsfm.vit_block_auto_wrap_policy'),
        sharding_strategy='FULL_SHARD',
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32', buffer_dtype='float32'),
        use_orig_params=True),  # per-parameter lr/decay groups (paramwise_cfg) need the original params
    activation_checkpointing=dict(check_fn='mmrsfm.is_vit_block'),
    state_dict_cfg='full')
