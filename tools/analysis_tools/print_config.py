"""Print a config after `_base_` inheritance and --cfg-options: ``print_config.py CONFIG``."""
import argparse

from mmengine.config import DictAction

import mmrsfm  # noqa: F401  (custom_imports of mmrsfm configs resolve against an importable package)
from mmrsfm.utils.preflight import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description='Print the full config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--save-path', help='also write the merged config here (.py/.json/.yaml)')
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    if args.save_path:
        cfg.dump(args.save_path)
        print(f'saved to {args.save_path}')


if __name__ == '__main__':
    main()
