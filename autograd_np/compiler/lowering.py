"""Lowering a traced step (``compiler.py``) into straight-line Python code.

The recorded graph is walked once: the forward in creation order, then the
backward exactly as ``engine.backward`` walks it (newest node first, the same
VJP calls, the same reductions, casts and accumulation order), computing this
call's gradients and writing down each step as one line of code whose
arguments are local variables.  Values the code needs that are not computed in
it (op parameters, constant arrays, the functions themselves) go into the
namespace it runs in, as ``K<n>``.  So replaying the code computes what eager
computes, with the same kernels in the same order: bitwise the same numbers.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from .. import core as engine
from ..core import hooks
from . import inline
from ..core import Tensor
from ..core.graph import Node, graph_nodes
from ..core.recording import state_of
from ..core.registry import RAW_OPS

__all__ = ["CompileError", "Program", "describe", "lower_and_run", "split_result", "detached", "argument_names"]


class CompileError(RuntimeError):
    """``ag.compile`` would not run fn as asked: in ``strict=True`` mode, a call that
    would run eagerly (the message says why); with ``check=True``, a compiled call
    whose results, gradients or state differ from eager's."""


def split_result(result):
    """(loss, the other results) of what fn returned."""
    if isinstance(result, tuple):
        if not result:
            raise TypeError("compile: fn returned an empty tuple; it must return a scalar loss tensor first")
        result = result[0], result[1:]
    else:
        result = result, ()
    if type(result[0]) is not Tensor:
        raise TypeError(f"compile: fn must return a scalar loss tensor (or a tuple starting with one), "
                        f"got {type(result[0]).__name__}")
    return result


def detached(value):
    """A result handed back: a tensor cut from the graph, holding a copy of the values."""
    if type(value) is Tensor:
        return Tensor(np.array(value._data), name=value.name)
    return value


def argument_names(leaves):
    """{id(stand-in): (local name, path, is a tensor)} for the array and tensor leaves of the
    arguments fn received while traced (``tracing.Arguments.leaves``): ``a<k>``,
    and the expression that finds the object (the first path where one object
    was passed twice)."""
    names = {}
    for path, _, s in leaves:
        if id(s) not in names:
            names[id(s)] = (f"a{len(names)}", path, type(s) is Tensor)
    return names


# --- comparing two traces ----------------------------------------------------------

class _Same:
    """An object two traces must share: the same one (and, for an array, the same values)."""

    __slots__ = ("obj", "digest")

    def __init__(self, obj, by_value=True):
        self.obj = obj
        self.digest = _digest(obj) if by_value and isinstance(obj, np.ndarray) else None

    def __eq__(self, other):
        return type(other) is _Same and self.obj is other.obj and self.digest == other.digest

    def __hash__(self):
        return id(self.obj)

    def __repr__(self):
        return f"<{type(self.obj).__name__}>"


def _digest(array):
    """A fixed-size fingerprint of an array's values (never a copy of them: a first
    trace kept per signature must not hold a copy of every constant)."""
    data = np.ascontiguousarray(array)
    return array.shape, array.dtype.str, hashlib.blake2b(data.reshape(-1).view(np.uint8), digest_size=20).digest()


def _freeze(value, args):
    """``value`` (an op input or parameter) in a form two traces can compare with ``==``;
    ``args``: ``argument_names`` of the call's stand-ins."""
    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return (type(value).__name__, value)
    if type(value) is slice:
        return ("slice", _freeze(value.start, args), _freeze(value.stop, args), _freeze(value.step, args))
    if type(value) in (tuple, list):
        return (type(value).__name__,) + tuple(_freeze(v, args) for v in value)
    if type(value) is dict:
        return ("dict",) + tuple(sorted((k, _freeze(v, args)) for k, v in value.items()))
    if type(value) is Tensor or isinstance(value, np.ndarray):
        named = args.get(id(value))
        if named is not None:
            return ("arg", named[1])
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    return ("same", _Same(value))


def _freeze_params(node, args):
    """A node's parameters for comparison; the state the op changes (``op.state``:
    a generator, running statistics) by identity alone, since its values move."""
    return ("dict",) + tuple(sorted((k, ("state", _Same(v, by_value=False)) if k in node.op.state
                                     else _freeze(v, args)) for k, v in node.params.items()))


def state_objects(nodes):
    """The objects the ops of ``nodes`` change (generators, running statistics), once each."""
    return list({id(o): o for n in nodes for o in state_of(n)}.values())


def describe(loss, extras, args):
    """The trace as a list two calls can compare: per node its op, how its inputs
    connect, its parameters, shape and dtype; then what fn returned."""
    nodes = sorted(graph_nodes([loss, *[e for e in extras if type(e) is Tensor]]), key=lambda n: n.seq)
    index = {n: i for i, n in enumerate(nodes)}

    def link(v):
        return ("node", index[v]) if type(v) is Node else _freeze(v, args)

    out = [(n.op.name, tuple(link(v) for v in n.inputs), _freeze_params(n, args), n.shape, n.dtype.str)
           for n in nodes]
    out.append(("results",) + tuple(link(r._node or r) if type(r) is Tensor else _freeze(r, args)
                                    for r in (loss, *extras)))
    return out


# --- the program ---------------------------------------------------------------

class Program:
    """A lowered step: generated code, the tensors it reads, and its guards.

    ``str(program)`` is the code: one line per kernel, the shapes and dtypes of
    what it computes in a comment."""

    def __init__(self, source, namespace, captured, guards, state=()):
        self.source, self.captured, self.guards, self.state = source, captured, guards, list(state)
        self.captured_ids = frozenset(id(t) for t in captured)
        self.hooks_seen = hooks.generation
        self._namespace, self._run = namespace, self._compile_and_run

    def _compile_and_run(self, args, kwargs, captured):
        """The first replay compiles the code (not the traced call that wrote it: a
        signature traced twice and never replayed, the last batch of a run, costs no
        compilation)."""
        exec(compile(self.source, "<autograd_np compiled step>", "exec"), self._namespace)  # noqa: S102  (our code)
        self._run = self._namespace["step"]
        return self._run(args, kwargs, captured)

    def still_valid(self):
        """The tensors the program reads still have the shapes, dtypes and flags it was
        lowered for, and no gradient hook was registered on one since."""
        for t, (shape, dtype, requires_grad) in zip(self.captured, self.guards):
            d = t._data
            if d.shape != shape or d.dtype != dtype or t._requires_grad != requires_grad:
                return False
        if hooks.generation != self.hooks_seen:  # some hook came or went: is it one of ours?
            if any(hooks.registered(t) for t in self.captured):
                return False
            self.hooks_seen = hooks.generation
        return True

    def run(self, args, kwargs=None):
        return self._run(args, kwargs, self.captured)

    def __str__(self):
        return self.source


# --- lowering ------------------------------------------------------------------

_GRAD_LOCK = engine.GRAD_LOCK


def leaf_gradient(leaf, g, handed):
    """Accumulate ``g`` into ``leaf.grad`` as backward() does (a new array, its own memory)."""
    old = leaf._grad
    leaf._grad = engine.owned_gradient(g if old is None else old + g, handed, leaf)


class _Code:
    """The lines being written, and the namespace they will run in."""

    def __init__(self, arg_names):
        self.arg_names = arg_names  # {id(stand-in): (local name, path, is a tensor)}
        self.lines = []
        self.namespace = {"RAW": RAW_OPS, "Tensor": Tensor, "np": np, "leaf_gradient": leaf_gradient,
                          "LOCK": _GRAD_LOCK, "asarray": np.asarray}
        self.captured = []   # leaf tensors fn uses without receiving them
        self.names = {}      # id(value) -> local name (args, captured tensors, node outputs)
        self.buffers = []    # arrays the step writes into on every call (never handed out)
        self.accumulators = {}  # gradient name -> the buffer its contributions add up in
        self.node_names = {}
        self.kernels = {}    # node -> its op's buffered form (inline.kernel_forward), or None

    def buffer(self, like):
        """The name of a new buffer shaped and typed as ``like``, in its memory layout (a
        convolution's channel-major output stays so: reductions over it then sum in the
        order eager's do, and give the same bits)."""
        like = np.asarray(like)
        self.buffers.append(np.empty_like(like, order="K"))
        return self.constant(self.buffers[-1], f"B{len(self.buffers) - 1}")

    def node_name(self, node):
        return self.node_names[node]

    def constant(self, value, name=None):
        """Code for a value the step does not compute: a literal, or a name in its namespace
        (``name`` when given and free, as ``affine_vjp``; else ``K<n>``)."""
        if isinstance(value, (bool, int, str, type(None))) or (type(value) is float and np.isfinite(value)):
            return repr(value)
        if name is None or self.namespace.get(name, value) is not value:
            name = f"K{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def tensor(self, t):
        """The local name of a leaf tensor's array: an argument's, or a captured one's."""
        named = self.arg_names.get(id(t))
        if named is not None:
            return named[0]
        if id(t) not in self.names:
            self.names[id(t)] = f"c{len(self.captured)}"
            self.captured.append(t)
        return self.names[id(t)]

    def expr(self, value, nodes):
        """Code for an op input: a local, a literal, a constant; tuples built in place."""
        if type(value) is Node:
            return nodes[value]
        if type(value) is Tensor:
            return self.tensor(value)
        named = self.arg_names.get(id(value))
        if named is not None:
            return named[0]
        if type(value) in (tuple, list):
            inner = ", ".join(self.expr(v, nodes) for v in value)
            if type(value) is list:
                return f"[{inner}]"
            return f"({inner},)" if value else "()"
        return self.constant(value)

    def kwargs(self, params):
        return "".join(f", {k}={self.expr(v, None)}" for k, v in params.items())


def _shape_comment(value):
    return f"  # {np.shape(value)} {np.asarray(value).dtype}" if value is not None else ""


def lower_and_run(loss, extras, arg_names, as_tuple, cleared=()):
    """Lower the graph behind ``loss`` (and ``extras``) into a Program, computing
    and delivering this call's gradients on the way (the traced call's backward).
    ``as_tuple``: fn returned a tuple; ``cleared``: the tensors whose ``.grad`` fn
    set to None (``zero_grad()``), which the program clears first too."""
    code = _Code(arg_names)
    for t in cleared:
        code.lines.append(f"    {_holder(code, t)}._grad = None  # fn's zero_grad")
    nodes = sorted(graph_nodes([loss, *[e for e in extras if type(e) is Tensor]]), key=lambda n: n.seq)
    names = {n: f"v{k}" for k, n in enumerate(nodes)}
    _forward_lines(code, nodes, names)
    leaves, grads = _backward_lines(code, loss, nodes, names)
    _delivery_lines(code, leaves, grads)
    _result_line(code, loss, extras, names, as_tuple)
    code.lines = release_dead(code.lines)
    prologue = [f"    {name} = {path}._data" if tensor else f"    {name} = {path}"
                for name, path, tensor in code.arg_names.values()]
    prologue += [f"    c{j} = captured[{j}]._data" for j in range(len(code.captured))]
    source = "\n".join(["def step(args, kwargs, captured):", *prologue, *code.lines])
    guards = [(t._data.shape, t._data.dtype, t._requires_grad) for t in code.captured]
    return Program(source, code.namespace, code.captured, guards, state_objects(nodes))


# values, saved extras, node gradients, VJP results: a name of the generated code, not an attribute
_TEMPORARY = re.compile(r"(?<![\w.])[vegt]\d+(?:_\d+)?(?!\w)")
_STRING_OR_COMMENT = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|#.*")


def release_dead(lines):
    """``lines`` with a ``del`` after each temporary's last use, so that a replay frees
    every activation and gradient once nothing reads it any more, as eager backward
    releases each node's arrays after its VJP (else the step's peak memory would hold
    all of them until it returns).  Buffers (``B<n>``), arguments, captured arrays and
    the leaves' gradients are not temporaries; nor is anything used in a block."""
    last, in_blocks = {}, set()
    for i, line in enumerate(lines):
        text = line.strip()
        if text.endswith(":"):
            continue
        names = _TEMPORARY.findall(_STRING_OR_COMMENT.sub("", text))
        if line.startswith("     "):  # inside a block (the delivery under the lock): keep those names
            in_blocks.update(names)
        for name in names:
            last[name] = i
    dead = {}
    for name, i in last.items():
        if name not in in_blocks:
            dead.setdefault(i, []).append(name)
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i in dead and not line.strip().startswith("return"):
            out.append(f"    del {', '.join(sorted(dead[i]))}")
    return out


def _forward_lines(code, nodes, names):
    code.node_names = names
    for n in nodes:
        ins = [code.expr(v, names) for v in n.inputs]
        kernel = inline.kernel_forward(code, n, ins) if n.op.save is not None else None
        if kernel is not None:
            code.lines.append(f"    {names[n]}, e{names[n][1:]} = {kernel}  # {n.op.name} -> {n.shape} {n.dtype}, "
                              "buffered")
            continue
        buffered = inline.forward_into(code, n, ins)
        if buffered is not None:
            code.lines.append(f"    {names[n]} = {buffered}  # {n.op.name} -> {n.shape} {n.dtype}, buffered")
            continue
        fn = n.op.save if n.op.save is not None else n.op.forward
        call = f"{code.constant(fn, n.op.name + ('_save' if n.op.save is not None else ''))}({', '.join(ins)}{code.kwargs(n.params)})"
        out = f"{names[n]}, e{names[n][1:]}" if n.op.save is not None else names[n]
        code.lines.append(f"    {out} = {call}  # {n.op.name} -> {n.shape} {n.dtype}")
        if n.shape == ():  # NumPy hands back a scalar for a 0-d result; the engine an array
            code.lines.append(f"    {names[n]} = asarray({names[n]})")


def _backward_lines(code, loss, nodes, names):
    """Write (and run, on this trace's arrays) backward; return {leaf: gradient name} in order."""
    root = loss._node
    one = engine.ones_seed(loss._data.shape, loss._data.dtype)
    grads = {root: one}            # node or leaf -> this call's gradient, as engine.run_backward keeps them
    gname = {root: code.constant(one)}
    leaves = {}
    for n in reversed(nodes):
        if n not in grads:
            continue  # no gradient reached it (as backward, it is not visited)
        g = grads.pop(n)
        k = names[n][1:]
        op, params = n.op, dict(n.params)
        extra = ""
        if op.wants_needs:
            params["needs"] = [type(p) is Node or (type(p) is Tensor and p._requires_grad) for p in n.inputs]
            extra += f", needs={code.constant(params['needs'])}"
        if op.save is not None:
            params["saved"] = n.extra
            extra += f", saved=e{k}"
        raw = op.vjp(RAW_OPS, g, n.out, *n.saved, **params)
        result = _as_tuple(n, raw)
        if len(result) != len(n.inputs):
            raise engine.vjp_result_error(n, result, 0, None)
        ins = [code.expr(v, names) for v in n.inputs]
        kernel = inline.kernel_vjp(code, n, ins, gname[n], g, result, params.get("needs"), f"e{k}") \
            if op.save is not None else None
        buffered = inline.vjp_into(code, n, ins, gname[n], g, result, params.get("needs")) if kernel is None else None
        call = (f"{code.constant(op.vjp, op.name + '_vjp')}(RAW, {gname[n]}, {names[n]}, "
                f"{', '.join(ins)}{code.kwargs(n.params)}{extra})")
        if kernel is not None:
            targets = [f"t{k}_{i}" if gp is not None else "_" for i, gp in enumerate(result)]
            code.lines.append(f"    {', '.join(targets)}, = {kernel}  # d {op.name}, buffered")
        elif buffered is not None:
            wanted = [(f"t{k}_{i}", expr) for i, expr in enumerate(buffered) if expr is not None]
            code.lines.append(f"    {', '.join(t for t, _ in wanted)} = {', '.join(e for _, e in wanted)}"
                              f"  # d {op.name}, buffered")
        elif isinstance(raw, (tuple, list)):
            targets = [f"t{k}_{i}" if gp is not None else "_" for i, gp in enumerate(result)]
            code.lines.append(f"    {', '.join(targets)}, = {call}  # d {op.name}")
        else:  # one gradient, the first input's
            code.lines.append(f"    t{k}_0 = {call}  # d {op.name}")
        for i, (link, gp) in enumerate(zip(n.inputs, result)):
            _send(code, n, i, link, gp, f"t{k}_{i}", grads, gname, names, leaves)
    return leaves, grads


def _as_tuple(node, result):
    if type(result) is list:
        return tuple(result)
    if type(result) is not tuple:
        return (result,) if len(node.inputs) == 1 else engine.first_gradient(node, result)
    return result


def _send(code, node, i, link, gp, var, grads, gname, names, leaves):
    """One gradient sent to input ``i``: reduced, cast and accumulated as engine.run_backward does."""
    if gp is None:
        return
    if type(link) is Node:
        shape, dtype, key = link.shape, link.dtype, link
    elif type(link) is Tensor and link._requires_grad:
        shape, dtype, key = link._data.shape, link._data.dtype, link
    else:
        return
    if gp.shape != shape:
        gp = engine.unbroadcast(RAW_OPS, gp, shape, node, i)
        code.lines.append(f"    {var} = RAW.sum_to({var}, shape={shape!r})")
    if gp.dtype is not dtype and gp.dtype != dtype:
        gp = RAW_OPS.astype(gp, dtype=dtype)
        code.lines.append(f"    {var} = RAW.astype({var}, dtype={code.constant(dtype)})")
    if key in grads:  # another contribution: into a buffer of its own (a leaf's: a new array, its .grad)
        grads[key] = grads[key] + gp
        if type(key) is Node:
            if gname[key] not in code.accumulators:
                code.accumulators[gname[key]] = code.buffer(grads[key])
            code.lines.append(f"    {gname[key]} = np.add({gname[key]}, {var}, out={code.accumulators[gname[key]]})")
        else:
            code.lines.append(f"    {gname[key]} = {gname[key]} + {var}")
        return
    grads[key] = gp
    if type(key) is Node:
        gname[key] = f"g{names[key][1:]}"
    else:
        gname[key] = f"G{len(leaves)}"
        leaves[key] = gname[key]
    code.lines.append(f"    {gname[key]} = {var}")


def _delivery_lines(code, leaves, grads):
    """Deliver this call's gradients into the leaves' .grad, and write the lines
    that will deliver later calls' (under the engine's lock, as backward does)."""
    handed = set()
    with _GRAD_LOCK:
        for leaf in leaves:
            leaf_gradient(leaf, grads[leaf], handed)
    code.lines.append(f"    handed = set({code.constant(frozenset(id(b) for b in code.buffers))})  # buffers: copied")
    code.lines.append("    with LOCK:")
    for leaf, name in leaves.items():
        code.lines.append(f"        leaf_gradient({_holder(code, leaf)}, {name}, handed)")
    if not leaves:
        code.lines.append("        pass")


def _holder(code, t):
    """Code for the tensor object itself (not its array): an argument or a captured one."""
    target = code.tensor(t)
    if target.startswith("a"):
        return next(path for name, path, _ in code.arg_names.values() if name == target)
    return f"captured[{target[1:]}]"


def _result_line(code, loss, extras, names, as_tuple):
    """fn's results, as copies cut from the graph (never the program's own arrays)."""
    results = []
    for r in (loss, *extras):
        if type(r) is Tensor:
            value = names[r._node] if r._node is not None else code.tensor(r)
            results.append(f"Tensor(np.array({value}), name={code.constant(r.name)})")
        elif id(r) in code.arg_names:  # an argument handed back: the caller's own object, as eager
            results.append(code.arg_names[id(r)][1])
        else:
            results.append(code.constant(r))
    code.lines.append(f"    return ({', '.join(results)},)" if as_tuple else f"    return {results[0]}")
