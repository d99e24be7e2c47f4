# MAE pretraining of ScalableViT-2.4b/16 with DeepSpeed ZeRO-3 (parameters sharded too), bf16.
# 64 GPUs x 32 images. Checkpoints are resumable shard directories; for a downstream init_cfg file run
# `tools/model_converters/scalable_vit2mmrsfm.py work_dir/iter_N.pth/ out.pth` (fp32 master weights), or set
# default_hooks.checkpoint.save_optimizer=False to write one bf16 file (`gather_16bit_weights_on_model_save`)
# that cannot resume training.
_base_ = ['./mae_vit-1.3b-p16_deepspeed-zero2-32xb64-bf16-800e_millionaid-224.py']
model = dict(backbone=dict(arch='2.4b'))
train_dataloader = dict(batch_size=32)
strategy = dict(
    train_micro_batch_size_per_gpu=32,
    zero_optimization=dict(
        _delete_=True,
        stage=3,
        overlap_comm=True,
        contiguous_gradients=True,
        reduce_bucket_size=int(5e8),
        stage3_prefetch_bucket_size=int(5e8),
        stage3_param_persistence_threshold=int(1e6),
        stage3_gather_16bit_weights_on_model_save=True))
