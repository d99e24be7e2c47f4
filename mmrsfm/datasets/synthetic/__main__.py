"""``python -m mmrsfm.datasets.synthetic FORMAT ROOT``: write a small dataset in a real layout."""
import argparse

from . import WRITERS


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m mmrsfm.datasets.synthetic',
                                     description='Write a small synthetic dataset in a real format.')
    parser.add_argument('format', choices=sorted(WRITERS), help='on-disk layout to write')
    parser.add_argument('root', help='output directory')
    parser.add_argument('--num-train', type=int, help="images in the train split (writer's default)")
    parser.add_argument('--num-val', type=int, help="images in the val split (writer's default)")
    parser.add_argument('--size', type=int, help="square image side (writer's default)")
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    given = dict(num_train=args.num_train, num_val=args.num_val, size=args.size)
    kwargs = {k: v for k, v in given.items() if v is not None}
    splits = WRITERS[args.format](args.root, seed=args.seed, **kwargs)
    print(f'wrote {args.format} dataset: ' + ', '.join(f'{k}={v}' for k, v in splits.items()))


if __name__ == '__main__':
    main()
