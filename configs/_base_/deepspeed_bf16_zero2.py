# DeepSpeed ZeRO-2 (optimizer states and gradients sharded), bf16, through mmengine's FlexibleRunner.
# Needs `pip install 'deepspeed<0.19.7'` (not a dependency of mmrsfm; 0.19.7 dropped the 1-bit
# optimizers mmengine 0.10.7 imports). ZeRO-3 variants override strategy.zero_optimization.
# DeepSpeed checkpoints are directories of shards: `tools/model_converters/scalable_vit2mmrsfm.py
# work_dir/iter_N.pth/ out.pth` gathers the fp32 master weights into a downstream init_cfg checkpoint. Configs set optim_wrapper.type='DeepSpeedOptimWrapper'
# (the engine steps the optimizer) and strategy.train_micro_batch_size_per_gpu.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    bf16=dict(enabled=True),
    inputs_to_half=['inputs'],  # cast the image dict to the engine's bf16 parameters
    zero_optimization=dict(
        stage=2,
        allgather_partitions=True,
        allgather_bucket_size=int(5e8),
        overlap_comm=True,
        reduce_scatter=True,
        reduce_bucket_size=int(5e8),
        contiguous_gradients=True))
