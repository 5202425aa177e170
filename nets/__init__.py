"""nets: layers, models, optimizers, data and training built on autograd_np."""
