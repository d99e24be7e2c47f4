"""mmrsfm: remote-sensing foundation models as an OpenMMLab plugin."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    with open(osp.join(HERE, 'mmrsfm', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` (comments dropped)."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='mmrsfm',
    version=read_version(),
    description='Remote-sensing foundation models (RS-vHeat, SpectralGPT, billion-scale ViT, RS4D) '
    'for mmrotate, mmsegmentation and mmdetection',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['mmrsfm', 'mmrsfm.*']),
    include_package_data=True,
    # torch/torchvision are pinned in requirements/torch.txt but not declared here: a user's existing
    # CUDA build must not be replaced by pip. mmcv must be built against that torch (see README).
    install_requires=['numpy', 'packaging'] + read_requirements('runtime'),
    extras_require={
        # Either OpenMMLab stack works; tools/setup_env.sh installs one (README "Dependencies").
        'onedl': read_requirements('onedl'),
        'openmmlab': read_requirements('openmmlab'),
        'tests': read_requirements('tests'),
    },
    license='Apache-2.0',
    zip_safe=False,
)
