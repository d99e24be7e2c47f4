# RS4D distillation into RSMamba-huge (see the -base config for the method and settings).
_base_ = ['./distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024.py']
model = dict(student=dict(arch='huge'))
