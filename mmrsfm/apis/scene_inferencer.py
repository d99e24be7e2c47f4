"""``SceneInferencer``: run a trained model over a whole scene, in bounded memory.

The scene is cut into a grid of output **blocks** of ``tile - overlap`` pixels. Each block is predicted
from the ``tile`` x ``tile`` window centred on it (``overlap // 2`` context on each side; the
windows of the outer blocks reach past the scene, and those pixels are filled and marked invalid), in
batches of ``batch_size`` windows. Segmentation / change maps keep only each window's centre block
(centre-crop stitching: every output pixel comes from exactly one window, in which it has at least
``overlap // 2`` pixels of real context), so there are no seams, and for a model whose receptive
field fits in ``overlap // 2`` (and whose downsampling divides ``overlap // 2`` and the block
size) the stitched map equals whole-image inference away from the scene border. Detections and
instances of all windows are merged with cross-tile NMS.

Memory: one batch of windows, the model, and GDAL's bounded block cache: it does not grow with the
scene (see ``tools/analysis_tools/benchmark_scene.py``). Windows whose pixels are all nodata are not
inferred. Progress is committed after every batch (:class:`~mmrsfm.apis.scene_io.ResumeState`): a run
interrupted and restarted with the same arguments continues after the last committed batch.
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .scene_io import (PIXEL_ONLY_SUFFIXES, BlockRasterWriter, ResumeState, SceneReader, check_same_grid,
                       file_fingerprint, gdal_env)

TASKS = ('segmentation', 'change_detection', 'rotated_detection', 'instance_segmentation')
#: Class-map value of pixels without a prediction (input nodata).
CLASS_NODATA = 255
_LOADERS = ('LoadMultiBandImage', 'LoadImageFromFile', 'LoadBiTemporalImages')


@dataclass
class SceneResult:
    """What a run wrote. ``complete`` is False when it stopped early (``max_blocks``): run again to resume."""
    task: str
    outputs: Dict[str, str] = field(default_factory=dict)
    blocks_total: int = 0
    blocks_done: int = 0  # committed, this run and earlier ones
    blocks_run: int = 0  # processed by this run
    tiles_inferred: int = 0
    tiles_skipped: int = 0  # entirely nodata
    resumed_from: int = 0
    seconds: float = 0.0
    complete: bool = False
    num_objects: Optional[int] = None


def _log(msg: str) -> None:
    from mmengine.logging import print_log
    print_log(msg, logger='current')


def _pipeline_loader(cfg) -> Tuple[Optional[str], dict]:
    """The (type, kwargs) of the image loader of the config's test pipeline."""
    pipelines = []
    try:
        pipelines.append(cfg.test_dataloader.dataset.pipeline)
    except (AttributeError, KeyError):
        pass
    if cfg.get('test_pipeline') is not None:
        pipelines.append(cfg.test_pipeline)
    for pipeline in pipelines:
        for step in pipeline or []:
            kind = str(step.get('type', '')).split('.')[-1]
            if kind in _LOADERS:
                return kind, {k: v for k, v in step.items() if k != 'type'}
    return None, {}


def _resize_scale(cfg) -> Optional[int]:
    """The longer side of a fixed ``Resize`` in the test pipeline (a detector's test size), if any."""
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except (AttributeError, KeyError):
        return None
    for step in pipeline or []:
        if str(step.get('type', '')).split('.')[-1] == 'Resize' and step.get('scale') is not None:
            scale = step['scale']
            return int(max(scale)) if isinstance(scale, (list, tuple)) else int(scale)
    return None


class SceneInferencer:
    """Whole-scene inference with a config and checkpoint of ``tools/test.py``.

    Example (a notebook)::

        from mmrsfm.apis import SceneInferencer
        inferencer = SceneInferencer('configs/.../my_config.py', 'work_dirs/.../iter_400.pth', device='cpu')
        result = inferencer('scene.tif', out_dir='out/')          # or inferencer(a_tif, b_tif, ...) for change
        result.outputs  # {'classes': 'out/scene_classes.tif', ...}

    The task comes from the model: an mmseg segmentor (``segmentation``), ``mmrsfm.SiameseEncoderDecoder``
    (``change_detection``), an mmrotate detector (``rotated_detection``; an mmdet box detector gives
    angle-0 boxes) or an mmdet detector with a mask head (``instance_segmentation``).

    Input bands and normalisation are the test pipeline's: ``bands`` / ``band_names`` / ``drop_bands``
    / ``nodata`` / ``fill_value`` of an ``mmrsfm.LoadMultiBandImage`` step, then the model's data
    preprocessor (mean / std). A model whose preprocessor has ``bgr_to_rgb=True`` was trained on
    mmcv-decoded (BGR) images: the scene's 3 bands (RGB in a GeoTIFF or PNG) are handed to it reversed.

    Args:
        config: Config path (or an ``mmengine.Config``).
        checkpoint: Checkpoint path; None keeps the initial weights.
        device: e.g. ``'cpu'``, ``'cuda'``, ``'cuda:1'``.
        tile: Window side in pixels. Default: the config's slide ``crop_size`` (segmentors), the test
            ``Resize`` scale (detectors), else 512.
        overlap: Pixels shared by neighbouring windows (even). Default: ``crop_size - stride`` of
            the config's slide inference, else ``tile // 4``.
        batch_size: Windows per forward pass.
        cfg_options: Config overrides (``--cfg-options``).
        score_thr: Drop detections / instances below this score (None: the model's own threshold).
        nms_iou_thr: IoU of the cross-tile NMS of rotated boxes (the DOTA merge's 0.1 by default);
            instances are de-duplicated by intersection over the smaller mask at ``0.5``.
    """

    def __init__(self, config, checkpoint: Optional[str] = None, device: str = 'cpu', tile: Optional[int] = None,
                 overlap: Optional[int] = None, batch_size: int = 4, cfg_options: Optional[dict] = None,
                 score_thr: Optional[float] = None, nms_iou_thr: float = 0.1) -> None:
        from mmengine.config import Config
        from mmengine.model.utils import revert_sync_batchnorm
        from mmengine.registry import MODELS, init_default_scope
        from mmengine.runner import load_checkpoint

        import mmrsfm  # noqa: F401  (checkpoint allow-list, version checks)
        from mmrsfm.utils.preflight import check_checkpoint, load_config
        self.cfg = config if isinstance(config, Config) else load_config(config, cfg_options)
        if isinstance(config, Config) and cfg_options:
            self.cfg.merge_from_dict(cfg_options)
        self.config_path = getattr(self.cfg, 'filename', None) or '<config>'
        self.cfg_options = dict(cfg_options or {})
        self.checkpoint = checkpoint
        init_default_scope(self.cfg.get('default_scope', 'mmrsfm'))
        model = MODELS.build(self.cfg.model)
        meta = {}
        if checkpoint is not None:
            check_checkpoint(checkpoint, 'checkpoint')
            ckpt = load_checkpoint(model, checkpoint, map_location='cpu', logger='current')
            meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        self.model = revert_sync_batchnorm(model).to(device).eval()
        self.device = torch.device(device)
        self.task = self._detect_task()
        self.classes, self.palette = self._class_info(meta.get('dataset_meta') or {})
        self.loader_type, self.loader_cfg = _pipeline_loader(self.cfg)
        preprocessor = getattr(self.model, 'data_preprocessor', None)
        self.reverse_rgb = bool(getattr(preprocessor, 'bgr_to_rgb', False) or
                                getattr(preprocessor, '_channel_conversion', False))
        default_tile, default_overlap = self._default_tiling()
        self.tile = int(tile or default_tile)
        self.overlap = int(default_overlap if overlap is None else overlap)
        self.overlap -= self.overlap % 2
        if not 0 <= self.overlap < self.tile:
            raise ValueError(f'overlap must be in [0, tile): got overlap={overlap} for tile={self.tile}')
        self.batch_size = int(batch_size)
        self.score_thr, self.nms_iou_thr = score_thr, nms_iou_thr
        self.dedup_ios_thr = 0.5

    # ------------------------------------------------------------------ model facts
    def _detect_task(self) -> str:
        from mmrsfm.models.segmentors import SiameseEncoderDecoder
        model = self.model
        if isinstance(model, SiameseEncoderDecoder):
            return 'change_detection'
        if hasattr(model, 'decode_head'):
            return 'segmentation'
        from mmdet.models.detectors.base import BaseDetector
        if isinstance(model, BaseDetector):  # with_mask: a roi_head with a mask head, or a mask_head
            return 'instance_segmentation' if model.with_mask else 'rotated_detection'
        raise ValueError(f'{type(model).__name__} is neither a segmentor nor a detector: whole-scene inference '
                         f'supports {TASKS}')

    def _class_info(self, dataset_meta: dict) -> Tuple[List[str], Optional[list]]:
        meta = dict(dataset_meta)
        if not meta.get('classes'):
            try:
                dataset = self.cfg.test_dataloader.dataset
                meta = dict(dataset.get('metainfo') or {})
                if not meta.get('classes'):
                    from mmengine.registry import DATASETS
                    cls = DATASETS.get(dataset.type)
                    meta = dict(getattr(cls, 'METAINFO', {}) or {})
            except (AttributeError, KeyError, TypeError):
                meta = {}
        classes = list(meta.get('classes') or [])
        if not classes:
            head = getattr(self.model, 'decode_head', None) or getattr(self.model, 'bbox_head', None)
            num = getattr(head, 'num_classes', None) or getattr(head, 'out_channels', 0)
            classes = [f'class{i}' for i in range(int(num or 0))]
        return classes, meta.get('palette')

    def _default_tiling(self) -> Tuple[int, int]:
        test_cfg = self.cfg.model.get('test_cfg') or {}
        if self.task in ('segmentation', 'change_detection'):
            if test_cfg.get('mode') == 'slide':
                crop, stride = test_cfg['crop_size'], test_cfg['stride']
                crop, stride = (crop if isinstance(crop, int) else max(crop)), (
                    stride if isinstance(stride, int) else max(stride))
                return crop, crop - stride
            size = (self.cfg.model.get('data_preprocessor') or {}).get('size')
            tile = int(max(size)) if size else 512
            return tile, tile // 4
        tile = _resize_scale(self.cfg) or 1024
        return tile, tile // 4

    # ------------------------------------------------------------------ inference on arrays
    @torch.no_grad()
    def infer_tiles(self, tiles: np.ndarray) -> list:
        """Run the model on a ``(N, C, H, W)`` float32 batch of windows (bands as the model takes them).

        Returns per window: ``(K, H, W)`` class probabilities (segmentation, change detection),
        ``(boxes (n, 5) cx cy w h angle, scores, labels)`` (rotated detection) or
        ``(masks (n, H, W) bool, scores, labels)`` (instance segmentation), in window pixels.
        """
        n, _, h, w = tiles.shape
        inputs = [torch.from_numpy(np.ascontiguousarray(t)) for t in tiles]
        meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
        if self.task in ('segmentation', 'change_detection'):
            from mmseg.structures import SegDataSample
            samples = [SegDataSample(metainfo=meta) for _ in range(n)]
        else:
            from mmdet.structures import DetDataSample
            samples = [DetDataSample(metainfo=dict(meta, scale_factor=(1.0, 1.0))) for _ in range(n)]
        if self.task in ('segmentation', 'change_detection'):
            # mmseg's own whole / slide inference on the preprocessed batch; its per-sample
            # post-processing (a resize to the same size and an argmax) would only cost time here
            data = self.model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
            logits = self.model.inference(data['inputs'], [s.metainfo for s in data['data_samples']]).float()
            probs = torch.sigmoid(logits) if logits.shape[1] == 1 else logits.softmax(dim=1)
            if logits.shape[1] == 1:  # a sigmoid head (out_channels=1): P(background), P(foreground)
                probs = torch.cat([1 - probs, probs], dim=1)
            return list(probs.cpu().numpy())
        outputs = self.model.test_step(dict(inputs=inputs, data_samples=samples))
        results = []
        for out in outputs:
            pred = out.pred_instances
            scores, labels = pred.scores.cpu().numpy(), pred.labels.cpu().numpy()
            keep = np.ones(len(scores), bool) if self.score_thr is None else scores >= self.score_thr
            if self.task == 'instance_segmentation':
                masks = pred.masks
                masks = (masks.to_ndarray() if hasattr(masks, 'to_ndarray') else masks.cpu().numpy()).astype(bool)
                results.append((masks[keep], scores[keep], labels[keep]))
                continue
            boxes = pred.bboxes
            boxes = (boxes.tensor if hasattr(boxes, 'tensor') else boxes).cpu().numpy().astype(np.float64)
            if boxes.shape[1] == 4:  # axis-aligned detector: angle 0
                boxes = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2],
                                        np.zeros((len(boxes), 1))], axis=1)
            results.append((boxes[keep], scores[keep], labels[keep]))
        return results

    # ------------------------------------------------------------------ scenes
    def _open(self, scene: str, scene_b: Optional[str], bands, band_names, nodata, align):
        opts = dict(self.loader_cfg) if self.loader_type == 'LoadMultiBandImage' else {}
        fill = opts.get('fill_value', 0.0)
        if not isinstance(fill, (int, float)):
            _log(f"scene: fill_value={fill!r} of the test pipeline needs the whole image; nodata pixels are filled "
                 f'with 0 instead')
            fill = 0.0
        kwargs = dict(bands=bands if bands is not None else opts.get('bands'),
                      band_names=band_names if band_names is not None else opts.get('band_names'),
                      drop_bands=opts.get('drop_bands', ()) if bands is None else (),
                      nodata=nodata if nodata is not None else opts.get('nodata'), fill_value=fill)
        reader_a = SceneReader(scene, reverse_rgb=self.reverse_rgb, **kwargs)
        readers = [reader_a]
        if self.task == 'change_detection':
            if scene_b is None:
                raise ValueError('a change-detection model needs two scenes: SCENE (date A) and SCENE_B (date B)')
            reader_b = SceneReader(scene_b, reverse_rgb=self.reverse_rgb, **kwargs)
            if align:
                reader_b.close()
                reader_b = SceneReader(scene_b, reverse_rgb=self.reverse_rgb, align_to=reader_a.grid(), **kwargs)
            else:
                try:
                    check_same_grid(reader_a, reader_b)
                except ValueError:
                    reader_a.close()
                    reader_b.close()
                    raise
            readers.append(reader_b)
        elif scene_b is not None:
            raise ValueError(f'SCENE_B is only for change detection; this config is {self.task}')
        return readers

    def __call__(self, scene: str, scene_b: Optional[str] = None, out_dir: str = 'scene_out', *,
                 bands: Optional[Sequence[str]] = None, band_names: Optional[Sequence[str]] = None,
                 nodata: Optional[float] = None, align: bool = False, save_probs: bool = False,
                 resume: bool = True, progress: bool = True, max_blocks: Optional[int] = None,
                 name: Optional[str] = None) -> SceneResult:
        """Infer ``scene`` (and ``scene_b`` for change detection) and write the outputs to ``out_dir``.

        Args:
            scene: Raster path (date A for change detection).
            scene_b: Date B of a change-detection pair.
            out_dir: Output folder (created).
            bands / band_names / nodata: Override the test pipeline's band selection and nodata.
            align: Warp ``scene_b`` onto ``scene``'s grid (bilinear) when they differ, instead of failing.
            save_probs: Also write per-class probabilities (segmentation / change detection).
            resume: Continue an interrupted run with the same arguments (False: start over).
            progress: Show a progress bar (tiles/s, ETA) on stderr.
            max_blocks: Stop after this many blocks in this call (the run stays resumable).
            name: Output file stem. Default: the scene's file stem.

        Returns:
            :class:`SceneResult`.
        """
        t0 = time.time()
        os.makedirs(out_dir, exist_ok=True)
        name = name or osp.splitext(osp.basename(scene))[0]
        with gdal_env():
            readers = self._open(scene, scene_b, bands, band_names, nodata, align)
            try:
                return self._run(readers, out_dir, name, save_probs, resume, progress, max_blocks, t0,
                                 [scene, scene_b, bands, band_names, nodata, align])
            finally:
                for reader in readers:
                    reader.close()

    def _fingerprint(self, args: list, save_probs: bool) -> dict:
        scene, scene_b = args[:2]
        return dict(version=1, task=self.task, config=file_fingerprint(self.config_path), cfg_options=self.cfg_options,
                    checkpoint=None if self.checkpoint is None else file_fingerprint(self.checkpoint),
                    scene=file_fingerprint(scene), scene_b=None if scene_b is None else file_fingerprint(scene_b),
                    options=args[2:], tile=self.tile, overlap=self.overlap, save_probs=save_probs,
                    score_thr=self.score_thr, nms=self.nms_iou_thr, reverse_rgb=self.reverse_rgb)

    def _run(self, readers, out_dir, name, save_probs, resume, progress, max_blocks, t0, args) -> SceneResult:
        ref = readers[0]
        height, width = ref.height, ref.width
        if not ref.georeferenced:
            what = 'PNG/JPEG' if ref.path.lower().endswith(PIXEL_ONLY_SUFFIXES) else 'raster'
            _log(f"scene: '{ref.path}' ({what}) has no georeferencing: outputs are in pixel coordinates "
                 f'(no CRS), and no EPSG:4326 GeoJSON is written')
        block = self.tile - self.overlap
        half = self.overlap // 2
        rows, cols = -(-height // block), -(-width // block)
        total = rows * cols
        result = SceneResult(task=self.task, blocks_total=total)
        state = ResumeState(out_dir, name, self._fingerprint(args, save_probs))
        committed = state.load() if resume else None
        dense = self.task in ('segmentation', 'change_detection')
        records_path = osp.join(out_dir, f'.{name}.objects.jsonl')
        partials = [records_path]
        if dense:
            partials = [osp.join(out_dir, f'{name}_{kind}.tif.partial')
                        for kind in (('classes', 'probs') if save_probs else ('classes', ))]
        if committed and committed['done'] > 0 and not all(osp.exists(p) for p in partials):
            _log(f'scene: the partial results of the interrupted run of {name} are gone; starting over')
            committed = None
        start = committed['done'] if committed else 0
        if committed:
            _log(f'scene: resuming {name}: {start}/{total} blocks already written')
        result.resumed_from = start
        _log(f'scene: {self.task} of {width}x{height} px ({ref.count} bands{" x 2 dates" if len(readers) > 1 else ""}'
             f'), {rows}x{cols} blocks of {block} px (windows {self.tile} px, overlap {self.overlap}), '
             f'batch {self.batch_size}, device {self.device}')

        writers: Dict[str, BlockRasterWriter] = {}
        records = None
        if dense:
            writers['classes'] = BlockRasterWriter(osp.join(out_dir, f'{name}_classes.tif'), 1, height, width,
                                                   resume=committed is not None)
            if save_probs:
                writers['probs'] = BlockRasterWriter(osp.join(out_dir, f'{name}_probs.tif'), len(self.classes),
                                                     height, width, resume=committed is not None)
        else:
            mode = 'r+b' if committed and osp.exists(records_path) else 'w+b'
            records = open(records_path, mode)
            records.truncate(committed.get('bytes', 0) if committed else 0)  # drop uncommitted lines
            records.seek(0, os.SEEK_END)
        if not committed:
            state.save(done=0, bytes=0)

        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, initial=start, unit='tile', desc=name, dynamic_ncols=True, smoothing=0.1)
        end = total if max_blocks is None else min(total, start + max_blocks)
        try:
            for first in range(start, end, self.batch_size):
                batch = list(range(first, min(first + self.batch_size, end)))
                windows, arrays, masks = [], [], []
                for index in batch:
                    r, c = divmod(index, cols)
                    row0, col0 = r * block - half, c * block - half
                    parts = [reader.read(row0, col0, self.tile, self.tile) for reader in readers]
                    data = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
                    valid = np.logical_and.reduce([p[1] for p in parts])
                    windows.append((index, r, c, row0, col0))
                    arrays.append(data)
                    masks.append(valid)
                todo = [i for i, v in enumerate(masks) if v.any()]
                result.tiles_skipped += len(batch) - len(todo)
                preds = self.infer_tiles(np.stack([arrays[i] for i in todo])) if todo else []
                by_window = dict(zip(todo, preds))
                for i, (index, r, c, row0, col0) in enumerate(windows):
                    pred = by_window.get(i)
                    if dense:
                        self._write_dense(writers, pred, masks[i], r, c, block, half, height, width)
                    else:
                        self._record_objects(records, index, pred, masks[i], row0, col0, height, width)
                result.tiles_inferred += len(todo)
                if records is not None:
                    records.flush()
                state.save(done=batch[-1] + 1, bytes=records.tell() if records is not None else 0)
                result.blocks_run += len(batch)
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
            for writer in writers.values():
                writer.close()
            if records is not None:
                records.close()
        result.blocks_done = start + result.blocks_run
        if result.blocks_done < total:
            result.seconds = time.time() - t0
            _log(f'scene: stopped after {result.blocks_done}/{total} blocks; run again with the same arguments '
                 f'to continue')
            return result

        geo = dict(crs=ref.crs if ref.georeferenced else None, transform=ref.transform)
        if dense:
            result.outputs.update(self._finish_dense(writers, geo))
        else:
            result.outputs.update(self._finish_objects(records_path, out_dir, name, geo, result))
            os.remove(records_path)
        state.clear()
        result.complete = True
        result.seconds = time.time() - t0
        summary = dict(task=self.task, classes=self.classes, config=self.config_path, checkpoint=self.checkpoint,
                       scene=args[0], scene_b=args[1], width=width, height=height,
                       crs=None if geo['crs'] is None else geo['crs'].to_string(),
                       transform=list(tuple(ref.transform)[:6]), tile=self.tile, overlap=self.overlap,
                       outputs=result.outputs, num_objects=result.num_objects,
                       tiles_inferred=result.tiles_inferred, tiles_skipped=result.tiles_skipped)
        summary_path = osp.join(out_dir, f'{name}_summary.json')
        with open(summary_path + '.tmp', 'w') as f:
            json.dump(summary, f, indent=2)
        os.replace(summary_path + '.tmp', summary_path)
        result.outputs['summary'] = summary_path
        megapixels = width * height / 1e6
        _log(f'scene: {name} done in {result.seconds:.1f} s ({megapixels / max(result.seconds, 1e-9):.2f} MP/s); '
             + ', '.join(f'{k}: {v}' for k, v in result.outputs.items()))
        return result

    # ------------------------------------------------------------------ dense outputs
    def _write_dense(self, writers, probs, valid, r, c, block, half, height, width) -> None:
        row, col = r * block, c * block
        bh, bw = min(block, height - row), min(block, width - col)
        core = (slice(half, half + bh), slice(half, half + bw))
        core_valid = valid[core]
        if probs is None:
            classes = np.full((1, bh, bw), CLASS_NODATA, np.uint8)
        else:
            classes = probs[(slice(None), ) + core].argmax(axis=0).astype(np.uint8)[None]
            classes[0][~core_valid] = CLASS_NODATA
        writers['classes'].write(classes, row, col)
        if 'probs' in writers:
            if probs is None:
                scaled = np.full((len(self.classes), bh, bw), CLASS_NODATA, np.uint8)
            else:
                scaled = np.rint(probs[(slice(None), ) + core] * 254).astype(np.uint8)
                scaled[:, ~core_valid] = CLASS_NODATA
            writers['probs'].write(scaled, row, col)

    def _finish_dense(self, writers, geo) -> Dict[str, str]:
        colormap = None
        if self.palette:
            colormap = {i: tuple(int(v) for v in colour) + (255, ) for i, colour in enumerate(self.palette)}
            colormap[CLASS_NODATA] = (0, 0, 0, 0)
        tags = {f'class_{i}': name for i, name in enumerate(self.classes)}
        outputs = dict(classes=writers['classes'].finalize(geo['crs'], geo['transform'], nodata=CLASS_NODATA,
                                                           colormap=colormap, descriptions=['class'], tags=tags))
        if 'probs' in writers:
            outputs['probs'] = writers['probs'].finalize(
                geo['crs'], geo['transform'], nodata=CLASS_NODATA, descriptions=[f'p({c})' for c in self.classes],
                scales=[1 / 254] * len(self.classes), tags=dict(scale='probability = value / 254'),
                resampling='AVERAGE')
        return outputs

    # ------------------------------------------------------------------ vector outputs
    def _record_objects(self, records, index, pred, valid, row0, col0, height, width) -> None:
        """Append a window's objects in scene pixels (one JSON line per window)."""
        if pred is None:
            return
        if self.task == 'rotated_detection':
            boxes, scores, labels = pred
            boxes = boxes.copy()
            corners = _rbox_corners(boxes)
            cut = self._cut_by_window(corners[..., 0].min(1), corners[..., 1].min(1), corners[..., 0].max(1),
                                      corners[..., 1].max(1), row0, col0, height, width)
            boxes[:, 0] += col0
            boxes[:, 1] += row0
            inside = (boxes[:, 0] >= 0) & (boxes[:, 0] < width) & (boxes[:, 1] >= 0) & (boxes[:, 1] < height)
            line = dict(block=index, boxes=boxes[inside].tolist(), scores=scores[inside].tolist(),
                        labels=labels[inside].tolist(), at_edge=cut[inside].tolist())
        else:
            line = self._instances_to_record(index, pred, valid, row0, col0, height, width)
        records.write((json.dumps(line) + '\n').encode())

    def _cut_by_window(self, x0, y0, x1, y1, row0, col0, height, width, margin: float = 1.5) -> np.ndarray:
        """Whether window-pixel extents touch an edge of the window that lies inside the scene (so the
        object may continue in the next window); edges on or past the scene border do not count."""
        x0, y0, x1, y1 = (np.asarray(v, np.float64) for v in (x0, y0, x1, y1))
        far = self.tile - margin
        return (((x0 < margin) & (col0 > 0)) | ((y0 < margin) & (row0 > 0)) |
                ((x1 > far) & (col0 + self.tile < width)) | ((y1 > far) & (row0 + self.tile < height)))

    def _instances_to_record(self, index, pred, valid, row0, col0, height, width) -> dict:
        import shapely
        from rasterio import features
        from rasterio.transform import Affine
        masks, scores, labels = pred
        polys, kept_scores, kept_labels, edge = [], [], [], []
        for mask, score, label in zip(masks, scores, labels):
            mask = mask & valid
            ys, xs = np.nonzero(mask)
            if len(ys) == 0:
                continue
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            sub = np.ascontiguousarray(mask[y0:y1, x0:x1]).astype(np.uint8)
            shapes = [shapely.geometry.shape(geom) for geom, value in
                      features.shapes(sub, mask=sub.astype(bool), transform=Affine.translation(col0 + x0, row0 + y0))
                      if value == 1]
            geom = shapely.union_all(shapes) if len(shapes) > 1 else shapes[0]
            polys.append(shapely.to_wkb(geom, hex=True))
            kept_scores.append(float(score))
            kept_labels.append(int(label))
            edge.append(bool(self._cut_by_window(x0, y0, x1, y1, row0, col0, height, width)))
        return dict(block=index, polygons=polys, scores=kept_scores, labels=kept_labels, at_edge=edge)

    def _read_records(self, path: str) -> list:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def _finish_objects(self, records_path, out_dir, name, geo, result) -> Dict[str, str]:
        import shapely

        from .vectors import (pixel_to_map, rotated_nms, write_dota_task1, write_geojson_wgs84,
                              write_geopackage)
        records = self._read_records(records_path)
        outputs = {}
        if self.task == 'rotated_detection':
            boxes = np.array([b for r in records for b in r['boxes']], np.float64).reshape(-1, 5)
            scores = np.array([s for r in records for s in r['scores']], np.float64)
            labels = np.array([lab for r in records for lab in r['labels']], np.int64)
            at_edge = np.array([e for r in records for e in r['at_edge']], bool)
            keep = _drop_cut_duplicates(boxes, labels, at_edge)
            per_class = rotated_nms(boxes[keep], scores[keep], labels[keep], len(self.classes), self.nms_iou_thr)
            outputs['dota_task1'] = write_dota_task1(osp.join(out_dir, f'{name}_dota_task1'), name, per_class,
                                                     self.classes)
            corners = np.concatenate([d[:, :8] for d in per_class]) if per_class else np.zeros((0, 8))
            scores = np.concatenate([d[:, 8] for d in per_class]) if per_class else np.zeros(0)
            labels = np.concatenate([np.full(len(d), c) for c, d in enumerate(per_class)]).astype(np.int64)
            pixel_polys = [shapely.Polygon(c.reshape(4, 2)) for c in corners]
            layer = 'detections'
        else:
            pixel_polys = [shapely.from_wkb(p) for r in records for p in r['polygons']]
            scores = np.array([s for r in records for s in r['scores']], np.float64)
            labels = np.array([lab for r in records for lab in r['labels']], np.int64)
            at_edge = np.array([e for r in records for e in r['at_edge']], bool)
            keep = self._dedup_instances(pixel_polys, scores, labels, at_edge)
            pixel_polys = [pixel_polys[i] for i in keep]
            scores, labels = scores[keep], labels[keep]
            layer = 'instances'
        result.num_objects = len(pixel_polys)
        crs = geo['crs']
        polys = pixel_to_map(pixel_polys, geo['transform']) if crs is not None else pixel_polys
        outputs['gpkg'] = write_geopackage(osp.join(out_dir, f'{name}_{layer}.gpkg'), polys, self.classes, labels,
                                           scores, None if crs is None else crs.to_wkt(), layer=layer)
        if crs is not None:
            outputs['geojson'] = write_geojson_wgs84(osp.join(out_dir, f'{name}_{layer}.geojson'), polys,
                                                     self.classes, labels, scores, crs)
        return outputs

    def _dedup_instances(self, polys, scores, labels, at_edge) -> np.ndarray:
        """Cross-tile de-duplication: an instance cut by a window edge loses to a whole copy of it.

        Greedy by (not cut by a window edge, score); a candidate is dropped when it covers more than
        ``dedup_ios_thr`` of the smaller of itself and a kept instance of its class (intersection over
        the smaller area: a cut copy has a low IoU with the whole one, but lies inside it).
        """
        import shapely
        if not polys:
            return np.zeros(0, np.int64)
        order = np.lexsort((-scores, at_edge))  # whole instances first, then by score
        geoms = np.asarray(polys, dtype=object)
        tree = shapely.STRtree(geoms)
        removed = np.zeros(len(geoms), bool)
        keep = []
        for i in order:
            if removed[i]:
                continue
            keep.append(i)
            for j in tree.query(geoms[i]):
                if j == i or removed[j] or labels[j] != labels[i]:
                    continue
                inter = shapely.area(shapely.intersection(geoms[i], geoms[j]))
                smaller = min(shapely.area(geoms[i]), shapely.area(geoms[j]))
                if smaller > 0 and inter / smaller > self.dedup_ios_thr:
                    removed[j] = True
        keep = np.asarray(keep, np.int64)
        return keep[np.argsort(-scores[keep], kind='stable')]


def _rbox_corners(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4, 2)`` corners of ``(N, 5)`` rotated boxes ``cx cy w h angle`` (radians)."""
    cx, cy, w, h, a = (boxes[:, i:i + 1] for i in range(5))
    cos, sin = np.cos(a), np.sin(a)
    dx = np.array([[-0.5, 0.5, 0.5, -0.5]]) * w
    dy = np.array([[-0.5, -0.5, 0.5, 0.5]]) * h
    return np.stack([cx + dx * cos - dy * sin, cy + dx * sin + dy * cos], axis=-1)


def _drop_cut_duplicates(boxes: np.ndarray, labels: np.ndarray, cut: np.ndarray, iof_thr: float = 0.5) -> np.ndarray:
    """Indices of boxes to keep before the cross-tile NMS: a box cut by a window edge is dropped when
    more than ``iof_thr`` of it lies inside a whole (uncut) box of its class from another window.

    An object crossing a window edge is seen whole by a neighbouring window (when it fits in the
    overlap) and as a sliver by this one; the sliver's IoU with the whole box can be below any NMS
    threshold, but it lies inside the whole box.
    """
    from mmcv.ops import box_iou_rotated
    keep = np.ones(len(boxes), bool)
    whole = np.nonzero(~cut)[0]
    for i in np.nonzero(cut)[0]:
        same = whole[labels[whole] == labels[i]]
        if len(same) == 0:
            continue
        iof = box_iou_rotated(torch.from_numpy(boxes[i:i + 1]).float(), torch.from_numpy(boxes[same]).float(),
                              mode='iof')
        if float(iof.max()) > iof_thr:
            keep[i] = False
    return np.nonzero(keep)[0]
