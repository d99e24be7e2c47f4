"""The shared body of ``tools/model_converters/<family>2mmrsfm.py``: the common arguments and one run
(load, convert, list what was dropped, save) that turns the library's errors into a non-zero exit with
their message, which says the fix. The converters themselves only raise; exiting is decided here."""
import argparse
from typing import Callable, List

from .checkpoint_io import ConversionResult, StateDict, load_checkpoint_file, save_converted, summarize_keys


def converter_parser(description: str, src_help: str = 'official checkpoint') -> argparse.ArgumentParser:
    """An argument parser with the arguments every converter CLI takes: ``src``, ``dst`` and
    ``--trust-checkpoint``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output path')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load with weights_only=False (for files that also pickle non-tensor objects, e.g. '
                             'training args); only for files from a source you trust')
    return parser


def format_dropped(dropped: List[str]) -> str:
    """How the CLIs report the source keys a conversion left out: the count, then the keys (grouped by
    prefix when there are many)."""
    if not dropped:
        return 'dropped 0 source keys'
    lines = '\n'.join(f'  {line}' for line in summarize_keys(dropped))
    return f'dropped {len(dropped)} source keys (not carried over on purpose):\n{lines}'


def run_conversion(convert: Callable[[dict], ConversionResult], src: str, dst: str, trust: bool = False,
                   **meta) -> StateDict:
    """Load ``src``, ``convert`` it, print the dropped keys and save to ``dst`` (``meta`` and the
    dropped keys go into the file's ``meta``). A missing or unreadable file, or a checkpoint of another
    layout, exits with status 1 and the error's message instead of a traceback."""
    try:
        state_dict, dropped = convert(load_checkpoint_file(src, trust))
        print(format_dropped(dropped))
        save_converted(state_dict, src, dst, dropped=dropped, **meta)
    except (OSError, ImportError, KeyError, ValueError) as e:
        # KeyError's str() quotes its message; show it as written
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise SystemExit(f'error: {message}') from e
    return state_dict
