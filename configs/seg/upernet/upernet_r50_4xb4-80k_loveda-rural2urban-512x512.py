# LoveDA domain shift Rural -> Urban: train on Train/Rural only, evaluate on Val/Urban (source-only
# baseline of the LoveDA domain adaptation benchmark; no adaptation method).
_base_ = './upernet_r50_4xb4-80k_loveda-512x512.py'
train_dataloader = dict(dataset=dict(domains=('rural', )))
val_dataloader = dict(dataset=dict(domains=('urban', )))
test_dataloader = val_dataloader
