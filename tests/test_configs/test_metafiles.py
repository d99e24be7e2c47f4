"""model-index.yml and the per-family metafiles: complete, consistent and sourced."""
import glob
import os.path as osp

import yaml

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _models():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    rows = []
    for path in index['Import']:
        assert osp.isfile(osp.join(REPO, path)), path
        with open(osp.join(REPO, path)) as f:
            meta = yaml.safe_load(f)
        names = {c['Name'] for c in meta['Collections']}
        for model in meta['Models'] or []:
            assert model['In Collection'] in names, (path, model['Name'])
            rows.append((path, model))
    return rows


def test_every_config_is_indexed_once_and_exists():
    rows = _models()
    listed = [m['Config'] for _, m in rows if m['Config'] is not None]
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    for cfg in listed:
        assert osp.isfile(osp.join(REPO, cfg)), cfg
        assert osp.splitext(osp.basename(cfg))[0] in {m['Name'] for _, m in rows}
    shipped = {osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
               if '/_base_/' not in p}
    assert shipped, 'no configs found'
    assert shipped == set(listed), f'not indexed: {sorted(shipped - set(listed))}'


def test_every_number_has_a_value_and_a_source():
    for path, model in _models():
        for column in ('Reported', 'Reproduced'):
            assert column in model, (path, model['Name'], column)
            entry = model[column]
            if entry is not None:
                assert isinstance(entry['Value'], (int, float)) and entry['Source'], (path, model['Name'])
