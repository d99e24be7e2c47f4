"""FAIR1M-2.0: the labelXml reader, the conversion to DOTA labelTxt and back, and every named error."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmrsfm.datasets.dota_split import parse_dota_txt, split_dota
from mmrsfm.datasets.fair1m import (FAIR1M_CLASSES, FAIR1M_DOTA_CLASSES, FAIR1M_FROM_DOTA, FAIR1M_TO_DOTA,
                                    convert_fair1m, parse_fair1m_xml, write_fair1m_results, write_fair1m_xml)
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_fair1m

RECT = ((10, 10), (50, 10), (50, 30), (10, 30))


def _object(name='Small Car', points=RECT + RECT[:1], with_points=True):
    name_xml = '' if name is None else f'<possibleresult><name>{name}</name></possibleresult>'
    pts = ''.join(f'<point>{p if isinstance(p, str) else "%s,%s" % p}</point>' for p in points)
    return (f'<object><coordinate>pixel</coordinate><type>rectangle</type><description>None</description>{name_xml}'
            + (f'<points>{pts}</points>' if with_points else '') + '</object>')


def _layout(tmp_path, *objects, stem='7', image=True, body=None):
    """A one-image split: images/{stem}.tif (unless ``image`` is False) and labelXml/{stem}.xml."""
    img_dir, xml_dir = tmp_path / 'images', tmp_path / 'labelXml'
    img_dir.mkdir(exist_ok=True)
    xml_dir.mkdir(exist_ok=True)
    if image:
        cv2.imwrite(str(img_dir / f'{stem}.tif'), np.zeros((64, 64, 3), np.uint8))
    if body is None:
        body = (f'<annotation><source><filename>{stem}.tif</filename></source><objects>{"".join(objects)}'
                '</objects></annotation>')
    (xml_dir / f'{stem}.xml').write_text(body)
    return str(xml_dir), str(img_dir), str(xml_dir / f'{stem}.xml')


def test_class_list_and_name_mapping():
    assert len(FAIR1M_CLASSES) == len(set(FAIR1M_CLASSES)) == 37
    for name in ('A220', 'Boeing737', 'Dry Cargo Ship', 'Small Car', 'Van', 'Tennis Court', 'Bridge',
                 'Intersection', 'other-airplane', 'other-ship', 'other-vehicle'):
        assert name in FAIR1M_CLASSES
    assert FAIR1M_TO_DOTA['Dry Cargo Ship'] == 'Dry_Cargo_Ship' and FAIR1M_TO_DOTA['other-ship'] == 'other-ship'
    assert all(' ' not in t for t in FAIR1M_DOTA_CLASSES)  # one token per DOTA line field
    assert [FAIR1M_FROM_DOTA[t] for t in FAIR1M_DOTA_CLASSES] == list(FAIR1M_CLASSES)


def test_release_layout_converts_to_dota_and_round_trips(tmp_path):
    root = str(tmp_path / 'FAIR1M')
    out = make_fair1m(root, num_train=2, num_val=1, num_test=1, size=400, max_objects=12, object_size=(20., 40.))
    assert sorted(os.listdir(f'{root}/train/part1')) == ['images', 'labelXml']
    assert os.listdir(f'{root}/test') == ['images']
    xml_dir, img_dir = f"{out['train']}/labelXml", f"{out['train']}/images"
    counts = convert_fair1m(xml_dir, img_dir, str(tmp_path / 'labelTxt'))
    assert counts['images'] == 2 and counts['missing_label_files'] == counts['reduced_to_rectangle'] == 0
    total = 0
    for stem in ('0', '1'):
        xml = parse_fair1m_xml(f'{xml_dir}/{stem}.xml')
        assert xml.filename == f'{stem}.tif' and xml.polys.shape[1] == 8  # the closing 5th point is gone
        txt = parse_dota_txt(str(tmp_path / 'labelTxt' / f'{stem}.txt'), FAIR1M_DOTA_CLASSES)
        np.testing.assert_allclose(txt.polys, xml.polys, atol=0.006)  # written to 0.01 px
        assert [FAIR1M_FROM_DOTA[n] for n in txt.names] == xml.names and not txt.difficult.any()
        total += len(xml.names)
        # writing the parsed labels back in the release schema reads back the same
        again = str(tmp_path / f'again_{stem}.xml')
        write_fair1m_xml(again, xml.filename, xml.polys, xml.names)
        back = parse_fair1m_xml(again)
        assert back.names == xml.names and np.allclose(back.polys, xml.polys, atol=1e-5)
    assert counts['objects'] == total and any(' ' in n for n in parse_fair1m_xml(f'{xml_dir}/0.xml').names)

    # the DOTA splitter tiles the 400 x 320 images with the FAIR1M categories
    meta = split_dota(img_dir, str(tmp_path / 'split'), str(tmp_path / 'labelTxt'), patch_size=128, gap=32,
                      classes=FAIR1M_DOTA_CLASSES)
    assert meta['images'] == 2 and meta['patches'] > 4


def test_results_are_written_back_with_official_names(tmp_path):
    from mmrsfm.evaluation.dota_task1 import write_task1
    quad = np.array([10, 10, 50, 10, 50, 30, 10, 30, 0.9])
    dets = {'3': [quad[None] if c in (FAIR1M_CLASSES.index('Dry Cargo Ship'), 0) else np.zeros((0, 9))
                  for c in range(37)]}
    write_task1(dets, FAIR1M_DOTA_CLASSES, str(tmp_path / 'Task1'))
    assert osp.isfile(tmp_path / 'Task1' / 'Task1_Dry_Cargo_Ship.txt')
    assert write_fair1m_results(str(tmp_path / 'Task1'), str(tmp_path / 'xml')) == 1
    result = parse_fair1m_xml(str(tmp_path / 'xml' / '3.xml'))
    assert result.filename == '3.tif' and sorted(result.names) == ['Dry Cargo Ship', 'Passenger Ship']
    np.testing.assert_allclose(result.polys, np.tile(quad[:8], (2, 1)), atol=0.01)
    assert '<probability>0.900000</probability>' in (tmp_path / 'xml' / '3.xml').read_text()


def test_degenerate_results_are_left_out_and_logged(tmp_path, log_messages):
    from mmrsfm.evaluation.dota_task1 import write_task1
    good, flat = [10, 10, 50, 10, 50, 30, 10, 30, 0.9], [10, 10, 50, 10, 50, 10, 10, 30, 0.8]  # 3 distinct corners
    dets = {'4': [np.array([good, flat]) if c == 0 else np.zeros((0, 9)) for c in range(37)]}
    write_task1(dets, FAIR1M_DOTA_CLASSES, str(tmp_path / 'Task1'))
    assert write_fair1m_results(str(tmp_path / 'Task1'), str(tmp_path / 'xml')) == 1
    assert parse_fair1m_xml(str(tmp_path / 'xml' / '4.xml')).names == ['Passenger Ship']
    assert any('1 degenerate detections' in m and '4: 1' in m for m in log_messages)


@pytest.mark.parametrize('objects, body, message', [
    ([_object(with_points=False)], None, r'\(object 1\): no <points>'),
    ([_object(), _object(name=None)], None, r'\(object 2\): no <possibleresult><name>'),
    ([_object(points=((1, 1), (5, 1), (5, 1), (1, 1), (1, 1)))], None, r'object 1\): 2 distinct points, a box needs 4'),
    ([_object(points=((1, 1), (5, 1), (5, 4)))], None, '3 distinct points'),
    ([_object(points=('1;1', (5, 1), (5, 4), (1, 4)))], None, r"point '1;1' is not \"x,y\""),
    ([_object(name='Boeing 737')], None, r"unknown category 'Boeing 737'; nearest known: Boeing737"),
    ([_object(name='Small_Car')], None, "nearest known: Small Car"),
    ([], '<annotation><source/></annotation>', 'has no <objects> element'),
    ([], '<annotation><objects>', 'is not well-formed xml'),
])
def test_bad_xml_fails_naming_file_object_and_fix(tmp_path, objects, body, message):
    xml_dir, img_dir, xml = _layout(tmp_path, *objects, body=body)
    with pytest.raises(DatasetFormatError, match=message) as err:
        convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'))
    assert xml in str(err.value) and 'Fix:' in str(err.value)
    assert not osp.exists(tmp_path / 'out')  # nothing written from bad input


def test_missing_image_or_xml_fails_with_the_fix(tmp_path):
    xml_dir, img_dir, xml = _layout(tmp_path, _object(), image=False)
    with pytest.raises(FileNotFoundError, match=r'7\.xml has no image: expected .*images/7\.tif\. Fix'):
        convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'))
    cv2.imwrite(osp.join(img_dir, '7.tif'), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(osp.join(img_dir, '8.tif'), np.zeros((8, 8, 3), np.uint8))  # an image without xml
    with pytest.raises(FileNotFoundError, match=r'1 images in .* have no xml .*labelXml/8\.xml.*--allow-missing'):
        convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'))
    counts = convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'), allow_missing_labels=True)
    assert counts == dict(images=2, objects=1, missing_label_files=1, reduced_to_rectangle=0)
    assert (tmp_path / 'out' / '8.txt').read_text() == ''
    with pytest.raises(FileExistsError, match='already holds .txt label files'):
        convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'))


def test_polygon_with_more_corners_is_kept_as_rectangle_and_logged(tmp_path, log_messages):
    pentagon = ((10, 10), (50, 10), (55, 20), (50, 30), (10, 30), (10, 10))
    xml_dir, img_dir, xml = _layout(tmp_path, _object(), _object(name='Bridge', points=pentagon))
    counts = convert_fair1m(xml_dir, img_dir, str(tmp_path / 'out'))
    assert counts['objects'] == 2 and counts['reduced_to_rectangle'] == 1
    assert any('minimum-area rectangle' in m and f'{xml} (object 2)' in m for m in log_messages)
    bridge = parse_dota_txt(str(tmp_path / 'out' / '7.txt'), FAIR1M_DOTA_CLASSES).polys[1].reshape(4, 2)
    assert bridge[:, 0].max() == pytest.approx(55, abs=0.01) and bridge[:, 0].min() == pytest.approx(10, abs=0.01)


def test_fair1m_dataset_reads_the_patches(tmp_path):
    pytest.importorskip('mmrotate')
    from mmrsfm.datasets import FAIR1MDataset
    xml_dir, img_dir, _ = _layout(tmp_path, _object(name='Dry Cargo Ship'), _object(name='A220'))
    convert_fair1m(xml_dir, img_dir, str(tmp_path / 'labelTxt'))
    split_dota(img_dir, str(tmp_path / 'split'), str(tmp_path / 'labelTxt'), patch_size=64, gap=0,
               classes=FAIR1M_DOTA_CLASSES)
    ds = FAIR1MDataset(data_root=str(tmp_path / 'split'), ann_file='annfiles/', data_prefix=dict(img_path='images/'),
                       pipeline=[])
    assert ds.metainfo['classes'] == FAIR1M_DOTA_CLASSES and len(ds) == 1
    labels = [i['bbox_label'] for i in ds[0]['instances']]
    assert labels == [FAIR1M_CLASSES.index('Dry Cargo Ship'), FAIR1M_CLASSES.index('A220')]


def test_split_cli_names_the_classes_option_for_fair1m_labels(tmp_path):
    import runpy
    xml_dir, img_dir, _ = _layout(tmp_path, _object(name='Small Car'))
    convert_fair1m(xml_dir, img_dir, str(tmp_path / 'labelTxt'))
    cli = runpy.run_path(osp.join(osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters', 'dota_split.py'))
    args = ['--img-dirs', img_dir, '--ann-dirs', str(tmp_path / 'labelTxt'), '--patch-size', '64', '--gap', '0']
    with pytest.raises(SystemExit, match=r"unknown category 'Small_Car'.*\nThese are fair1m-2.0 categories: pass "
                                         r'--classes fair1m-2.0\.'):
        cli['main'](args + ['--out-dir', str(tmp_path / 'a')])
    cli['main'](args + ['--out-dir', str(tmp_path / 'b'), '--classes', 'fair1m-2.0'])
    assert os.listdir(tmp_path / 'b' / 'annfiles') == ['7__1__0___0.txt']
