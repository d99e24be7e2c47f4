"""The ATen op counter behind the benchmark's launch-budget columns."""
import torch

from mmrsfm.utils.op_count import count_forward_ops, count_ops


def test_counts_every_dispatched_op_and_separates_views():
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    ops = count_ops(lambda: (a + b).relu().view(-1))
    assert ops['per_op'] == {'add': 1, 'relu': 1, 'view': 1}
    assert ops['total'] == 3 and ops['kernels'] == 2  # a view launches nothing


def test_forward_counts_scale_with_layers_not_input_size():
    def net(depth):
        torch.manual_seed(0)
        return torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU()) for _ in range(depth)])

    small, deep = count_forward_ops(net(2), torch.randn(1, 8)), count_forward_ops(net(4), torch.randn(1, 8))
    assert deep['kernels'] == 2 * small['kernels'] > 0
    assert count_forward_ops(net(2), torch.randn(16, 8))['kernels'] == small['kernels']
