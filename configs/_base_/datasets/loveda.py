# LoveDA read from the official release (Train/, Val/, Test/ extracted under data_root; no conversion)
# by mmrsfm.LoveDAOfficialDataset; mmseg's LoveDA classes, pipelines and reduce_zero_label. `domains`
# selects Urban and/or Rural per split, e.g. train ('rural', ) and val ('urban', ) for Rural -> Urban
# domain adaptation. Test/ has no masks (scored by the LoveDA server), so tools/test.py evaluates Val/.
_base_ = 'mmseg::_base_/datasets/loveda.py'
dataset_type = 'mmrsfm.LoveDAOfficialDataset'
data_root = 'data/LoveDA'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        domains=('urban', 'rural'),
        data_prefix=dict(img_path='', seg_map_path='')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        domains=('urban', 'rural'),
        data_prefix=dict(img_path='', seg_map_path='')))
test_dataloader = val_dataloader
