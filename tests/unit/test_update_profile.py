"""The update profile's categories."""

from userl.benchmarks.update_profile import category


def test_operators_fall_into_the_reported_categories() -> None:
    assert category("aten::baddbmm") == category("aten::mm") == "matrix_products"
    assert category("aten::convolution_backward") == "matrix_products"
    assert category("aten::_fused_adam_") == category("Optimizer.step#Adam.step") == "optimizer"
    assert category("aten::_foreach_lerp_") == "polyak"
    assert category("sample") == "sampling"
    assert category("aten::native_layer_norm") == "element_wise_and_other_ops"
