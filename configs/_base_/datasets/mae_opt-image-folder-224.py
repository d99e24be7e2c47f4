# Unlabelled optical images for MAE pretraining: every image under {data_root}/{data_prefix.opt},
# subfolders included (MillionAID as released: images/train/<category tree>/*.jpg and images/test/),
# short side resized to 256, one random 224 crop + flips (mmrsfm.MultiModalImageFolder, one modality).
data_root = 'data/millionaid/'
crop_size = (224, 224)
train_pipeline = [
    dict(type='mmrsfm.LoadMultiModalImages', color_types=dict(opt='color')),
    dict(type='mmrsfm.PairedRandomCropFlip', crop_size=crop_size, scale=256),
    dict(type='mmrsfm.PackMultiModalInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='mmrsfm.MultiModalImageFolder', data_root=data_root, modalities=('opt', ), recursive=True,
                 data_prefix=dict(opt='images/'), pipeline=train_pipeline))
