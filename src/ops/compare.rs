//! Comparisons with numpy broadcasting: 1 where the relation holds, 0 elsewhere. Their outputs are
//! constants of the tape (a step function has no useful gradient), so they have no reverse rule and
//! their tangent in forward mode is 0. Use them for masks: `x.gt(y)`, `Var::where_(t.gt(p), a, b)`.

use crate::ops::Op;
use crate::tape::Var;
use crate::tensor::kernels::map2;
use crate::tensor::shape::broadcast_shapes;
use crate::tensor::Float;

/// The relations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Cmp {
    pub fn name(self) -> &'static str {
        match self {
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
            Cmp::Lt => "lt",
            Cmp::Le => "le",
            Cmp::Eq => "eq",
            Cmp::Ne => "ne",
        }
    }

    /// Whether `a (relation) b`; false whenever either is NaN, except for `ne`.
    #[inline(always)]
    fn holds<T: Float>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }
}

#[allow(clippy::should_implement_trait)]
impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    fn compare(self, kind: Cmp, other: Var<'t, T>) -> Var<'t, T> {
        self.same_tape(&other, kind.name());
        let (sa, sb) = (self.shape(), other.shape());
        let Some(out_shape) = broadcast_shapes(&sa, &sb) else {
            panic!("{}: shapes {:?} and {:?} cannot be broadcast together", kind.name(), &sa[..], &sb[..]);
        };
        let (a, b) = (self.id(), other.id());
        let os = out_shape.clone();
        self.tape().record(Op::Compare(kind, a, b), out_shape, false, |f, out| {
            let flag = |x: T, y: T| if kind.holds(x, y) { T::ONE } else { T::ZERO };
            map2(&sa, &sb, &os, f.x(a), f.x(b), out, flag);
        })
    }

    /// 1 where `self > other`, else 0 (`torch.gt`); broadcasts; no gradient.
    #[track_caller]
    pub fn gt(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Gt, other)
    }
    /// 1 where `self >= other`, else 0 (`torch.ge`); broadcasts; no gradient.
    #[track_caller]
    pub fn ge(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Ge, other)
    }
    /// 1 where `self < other`, else 0 (`torch.lt`); broadcasts; no gradient.
    #[track_caller]
    pub fn lt(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Lt, other)
    }
    /// 1 where `self <= other`, else 0 (`torch.le`); broadcasts; no gradient.
    #[track_caller]
    pub fn le(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Le, other)
    }
    /// 1 where `self == other`, else 0 (`torch.eq`); broadcasts; no gradient.
    #[track_caller]
    pub fn eq(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Eq, other)
    }
    /// 1 where `self != other`, else 0 (`torch.ne`); broadcasts; no gradient.
    #[track_caller]
    pub fn ne(self, other: Var<'t, T>) -> Var<'t, T> {
        self.compare(Cmp::Ne, other)
    }
}
