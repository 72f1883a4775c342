//! Property tests of convolution and pooling (f64, 256 cases each): forward values against direct
//! loops written here, gradients through the public `gradcheck` (reverse mode and forward mode
//! against central differences), and second derivatives through `gradgradcheck`. Random shapes
//! include size-1 batches, channels, kernels and lengths, groups, strides, dilations, explicit
//! and "same" padding, with and without bias.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{ConvOptions, Padding, PoolOptions, Tensor, Var};

/// One convolution: input, weight, optional bias, options (lifted to 2-D: a 1-D case has height 1).
#[derive(Clone, Debug)]
struct ConvCase {
    dims: usize,
    x: Tensor<f64>,
    w: Tensor<f64>,
    b: Option<Tensor<f64>>,
    stride: [usize; 2],
    dilation: [usize; 2],
    /// `[before, after]` per dimension as resolved, and whether it was given as "same".
    pad: [[usize; 2]; 2],
    same: bool,
    groups: usize,
}

fn conv_case(dims: usize) -> impl Strategy<Value = ConvCase> {
    let per_dim = (1usize..=3, 1usize..=2, 1usize..=2, 0usize..=2, 0usize..=2);
    (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2, any::<bool>(), any::<bool>(), per_dim.clone(), per_dim)
        .prop_flat_map(move |(n, groups, cig, cog, same, bias, d0, d1)| {
            let ds = if dims == 1 { [(1, 1, 1, 0, 0), d1] } else { [d0, d1] };
            let same = same && ds.iter().all(|d| d.1 == 1);
            let mut pad = [[0; 2]; 2];
            let mut len = [1; 2];
            let mut k = [1; 2];
            for (i, &(kk, s, dl, p, extra)) in ds.iter().enumerate() {
                k[i] = kk;
                let span = dl * (kk - 1) + 1;
                pad[i] = if same { [(span - 1) / 2, span - 1 - (span - 1) / 2] } else { [p, p] };
                len[i] = span.saturating_sub(2 * pad[i][0].min(pad[i][1])).max(1) + extra + s - 1;
            }
            let (c_in, c_out) = (groups * cig, groups * cog);
            let xs: Vec<usize> = if dims == 1 { vec![n, c_in, len[1]] } else { vec![n, c_in, len[0], len[1]] };
            let ws: Vec<usize> = if dims == 1 { vec![c_out, cig, k[1]] } else { vec![c_out, cig, k[0], k[1]] };
            let stride = [ds[0].1, ds[1].1];
            let dilation = [ds[0].2, ds[1].2];
            let b = if bias { values(vec![c_out], -1.0, 1.0).prop_map(Some).boxed() } else { Just(None).boxed() };
            (values(xs, -2.0, 2.0), values(ws, -1.0, 1.0), b).prop_map(move |(x, w, b)| ConvCase {
                dims, x, w, b, stride, dilation, pad, same, groups,
            })
        })
}

impl ConvCase {
    fn options<const D: usize>(&self) -> ConvOptions<D> {
        let pick = |v: [usize; 2]| -> [usize; D] { std::array::from_fn(|i| v[2 - D + i]) };
        let padding = if self.same { Padding::Same } else { Padding::Explicit(std::array::from_fn(|i| self.pad[2 - D + i])) };
        ConvOptions { stride: pick(self.stride), padding, dilation: pick(self.dilation), groups: self.groups }
    }

    /// The convolution through the tape (inputs: x, w, and b when there is one).
    fn apply<'t>(&self, v: &[Var<'t, f64>]) -> Var<'t, f64> {
        let b = v.get(2).copied();
        if self.dims == 1 { v[0].conv1d(v[1], b, self.options::<1>()) } else { v[0].conv2d(v[1], b, self.options::<2>()) }
    }

    fn inputs(&self) -> Vec<Tensor<f64>> {
        let mut i = vec![self.x.clone(), self.w.clone()];
        i.extend(self.b.clone());
        i
    }

    /// The textbook sum over the 2-D lifted shapes.
    fn by_hand(&self) -> Tensor<f64> {
        let lift = |s: &[usize]| -> Vec<usize> { if self.dims == 1 { vec![s[0], s[1], 1, s[2]] } else { s.to_vec() } };
        let (xs, ws) = (lift(self.x.shape()), lift(self.w.shape()));
        let (cig, cog) = (ws[1], ws[0] / self.groups);
        let out_len = |d: usize| (xs[2 + d] + self.pad[d][0] + self.pad[d][1] - self.dilation[d] * (ws[2 + d] - 1) - 1) / self.stride[d] + 1;
        let (oh, ow) = (out_len(0), out_len(1));
        let mut out = Vec::new();
        for n in 0..xs[0] {
            for co in 0..ws[0] {
                for y in 0..oh {
                    for z in 0..ow {
                        let mut s = self.b.as_ref().map_or(0.0, |b| b.data()[co]);
                        for ci in 0..cig {
                            let c = co / cog * cig + ci;
                            for i in 0..ws[2] {
                                for j in 0..ws[3] {
                                    let ih = (y * self.stride[0] + i * self.dilation[0]) as isize - self.pad[0][0] as isize;
                                    let iw = (z * self.stride[1] + j * self.dilation[1]) as isize - self.pad[1][0] as isize;
                                    if (0..xs[2] as isize).contains(&ih) && (0..xs[3] as isize).contains(&iw) {
                                        let xv = self.x.data()[ravel(&[n, c, ih as usize, iw as usize], &xs)];
                                        s += xv * self.w.data()[ravel(&[co, ci, i, j], &ws)];
                                    }
                                }
                            }
                        }
                        out.push(s);
                    }
                }
            }
        }
        let shape = if self.dims == 1 { vec![xs[0], ws[0], ow] } else { vec![xs[0], ws[0], oh, ow] };
        Tensor::from_vec(out, &shape)
    }
}

/// One pool: input with distinct values (no ties: max pooling's gradient is then exact), options.
#[derive(Clone, Debug)]
struct PoolCase {
    dims: usize,
    x: Tensor<f64>,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    count_include_pad: bool,
}

fn pool_case(dims: usize) -> impl Strategy<Value = PoolCase> {
    let per_dim = (1usize..=3, 1usize..=3, 0usize..=1, 0usize..=3);
    (1usize..=2, 1usize..=3, any::<bool>(), per_dim.clone(), per_dim).prop_flat_map(move |(n, c, cip, d0, d1)| {
        let ds = if dims == 1 { [(1, 1, 0, 0), d1] } else { [d0, d1] };
        let k = [ds[0].0, ds[1].0];
        let stride = [ds[0].1, ds[1].1];
        let pad = [ds[0].2.min(k[0] / 2), ds[1].2.min(k[1] / 2)];
        let len = [k[0].max(1) + ds[0].3, k[1] + ds[1].3];
        let shape: Vec<usize> = if dims == 1 { vec![n, c, len[1]] } else { vec![n, c, len[0], len[1]] };
        let count: usize = shape.iter().product();
        // Distinct values at least 0.01 apart, in random order, with a small jitter.
        let order = Just((0..count).collect::<Vec<usize>>()).prop_shuffle();
        (order, prop::collection::vec(0.0..0.005f64, count)).prop_map(move |(order, jitter)| {
            let data = order.iter().zip(&jitter).map(|(&o, &j)| o as f64 * 0.01 - 0.5 + j).collect();
            PoolCase { dims, x: Tensor::from_vec(data, &shape), k, stride, pad, count_include_pad: cip }
        })
    })
}

impl PoolCase {
    fn options<const D: usize>(&self) -> PoolOptions<D> {
        let pick = |v: [usize; 2]| -> [usize; D] { std::array::from_fn(|i| v[2 - D + i]) };
        PoolOptions { kernel_size: pick(self.k), stride: pick(self.stride), padding: pick(self.pad), count_include_pad: self.count_include_pad }
    }

    fn max<'t>(&self, x: Var<'t, f64>) -> Var<'t, f64> {
        if self.dims == 1 { x.max_pool1d(self.options::<1>()) } else { x.max_pool2d(self.options::<2>()) }
    }

    fn avg<'t>(&self, x: Var<'t, f64>) -> Var<'t, f64> {
        if self.dims == 1 { x.avg_pool1d(self.options::<1>()) } else { x.avg_pool2d(self.options::<2>()) }
    }

    /// Max and average pooling by hand, window by window.
    fn by_hand(&self, max: bool) -> Tensor<f64> {
        let s = self.x.shape();
        let xs: Vec<usize> = if self.dims == 1 { vec![s[0], s[1], 1, s[2]] } else { s.to_vec() };
        let out_len = |d: usize| (xs[2 + d] + 2 * self.pad[d] - self.k[d]) / self.stride[d] + 1;
        let (oh, ow) = (out_len(0), out_len(1));
        let mut out = Vec::new();
        for plane in 0..xs[0] * xs[1] {
            for y in 0..oh {
                for z in 0..ow {
                    let (mut best, mut sum, mut inside) = (f64::NEG_INFINITY, 0.0, 0);
                    for i in 0..self.k[0] {
                        for j in 0..self.k[1] {
                            let ih = (y * self.stride[0] + i) as isize - self.pad[0] as isize;
                            let iw = (z * self.stride[1] + j) as isize - self.pad[1] as isize;
                            if (0..xs[2] as isize).contains(&ih) && (0..xs[3] as isize).contains(&iw) {
                                let v = self.x.data()[(plane * xs[2] + ih as usize) * xs[3] + iw as usize];
                                best = best.max(v);
                                sum += v;
                                inside += 1;
                            }
                        }
                    }
                    let area = if self.count_include_pad { self.k[0] * self.k[1] } else { inside };
                    out.push(if max { best } else { sum / area as f64 });
                }
            }
        }
        let shape = if self.dims == 1 { vec![xs[0], xs[1], ow] } else { vec![xs[0], xs[1], oh, ow] };
        Tensor::from_vec(out, &shape)
    }
}

fn global_pool<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
    if v[0].shape().len() == 3 { v[0].global_avg_pool1d() } else { v[0].global_avg_pool2d() }
}

fn second_order(f: impl for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError> {
    gradgradcheck(|v| probe(f(v)), inputs).map(|_| ()).map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn conv1d(c in conv_case(1)) {
        let cc = c.clone();
        check(move |v| cc.apply(v), &c.inputs(), &c.by_hand())?;
        let cc = c.clone();
        second_order(move |v| cc.apply(v), &c.inputs())?;
    }

    #[test]
    fn conv2d(c in conv_case(2)) {
        let cc = c.clone();
        check(move |v| cc.apply(v), &c.inputs(), &c.by_hand())?;
        let cc = c.clone();
        second_order(move |v| cc.apply(v), &c.inputs())?;
    }

    #[test]
    fn max_pool1d(c in pool_case(1)) {
        let cc = c.clone();
        check(move |v| cc.max(v[0]), std::slice::from_ref(&c.x), &c.by_hand(true))?;
        let cc = c.clone();
        second_order(move |v| cc.max(v[0]), std::slice::from_ref(&c.x))?;
    }

    #[test]
    fn max_pool2d(c in pool_case(2)) {
        let cc = c.clone();
        check(move |v| cc.max(v[0]), std::slice::from_ref(&c.x), &c.by_hand(true))?;
        let cc = c.clone();
        second_order(move |v| cc.max(v[0]), std::slice::from_ref(&c.x))?;
    }

    #[test]
    fn avg_pool1d(c in pool_case(1)) {
        let cc = c.clone();
        check(move |v| cc.avg(v[0]), std::slice::from_ref(&c.x), &c.by_hand(false))?;
        let cc = c.clone();
        second_order(move |v| cc.avg(v[0]), std::slice::from_ref(&c.x))?;
    }

    #[test]
    fn avg_pool2d(c in pool_case(2)) {
        let cc = c.clone();
        check(move |v| cc.avg(v[0]), std::slice::from_ref(&c.x), &c.by_hand(false))?;
        let cc = c.clone();
        second_order(move |v| cc.avg(v[0]), std::slice::from_ref(&c.x))?;
    }

    #[test]
    fn global_avg_pool(x in (1usize..=2, 1usize..=3, prop::collection::vec(1usize..=4, 1..=2))
        .prop_flat_map(|(n, c, sp)| { let mut s = vec![n, c]; s.extend(sp); values(s, -2.0, 2.0) })) {
        let s = x.shape().to_vec();
        let area: usize = s[2..].iter().product();
        let want: Vec<f64> = x.data().chunks(area).map(|p| p.iter().sum::<f64>() / area as f64).collect();
        let want = Tensor::from_vec(want, &s[..2]);
        check(global_pool, std::slice::from_ref(&x), &want)?;
        second_order(global_pool, std::slice::from_ref(&x))?;
    }
}
