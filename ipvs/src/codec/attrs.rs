//! Attributes in both directions over neli's types: [`Attrs`] builds a
//! request's, [`Reader`] reads a reply's with the kernel's widths.

use neli::genl::{AttrType, GenlAttrHandle, Nlattr, NlattrBuilder};
use neli::types::{Buffer, GenlBuffer};

/// Attributes of one level of a message, built infallibly and turned into
/// neli's attributes once, by [`Attrs::build`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Attrs(Vec<(u16, Value)>);

#[derive(Clone, Debug)]
enum Value {
    Raw(Vec<u8>),
    Nested(Attrs),
}

impl Attrs {
    pub(crate) fn bytes(mut self, ty: u16, v: &[u8]) -> Self {
        self.0.push((ty, Value::Raw(v.to_vec())));
        self
    }
    pub(crate) fn u8(self, ty: u16, v: u8) -> Self {
        self.bytes(ty, &[v])
    }
    pub(crate) fn u16(self, ty: u16, v: u16) -> Self {
        self.bytes(ty, &v.to_ne_bytes())
    }
    /// A port or other big-endian 16-bit field.
    pub(crate) fn be16(self, ty: u16, v: u16) -> Self {
        self.bytes(ty, &v.to_be_bytes())
    }
    pub(crate) fn u32(self, ty: u16, v: u32) -> Self {
        self.bytes(ty, &v.to_ne_bytes())
    }
    pub(crate) fn u64(self, ty: u16, v: u64) -> Self {
        self.bytes(ty, &v.to_ne_bytes())
    }
    /// A NUL-terminated string, as `NLA_NUL_STRING` policies require.
    pub(crate) fn c_string(self, ty: u16, s: &[u8]) -> Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        self.bytes(ty, &v)
    }
    pub(crate) fn nested(mut self, ty: u16, inner: Attrs) -> Self {
        self.0.push((ty, Value::Nested(inner)));
        self
    }

    /// neli's attributes, nested ones flagged `NLA_F_NESTED` as neli does.
    pub(crate) fn build(&self) -> Result<GenlBuffer<u16, Buffer>, String> {
        self.0
            .iter()
            .map(|(ty, v)| match v {
                Value::Raw(b) => attr(*ty, b.clone()),
                Value::Nested(inner) => inner
                    .build()?
                    .iter()
                    .try_fold(attr(*ty, Vec::new())?, |outer, child| {
                        outer.nest(child).map_err(|e| e.to_string())
                    }),
            })
            .collect()
    }
}

fn attr(ty: u16, payload: Vec<u8>) -> Result<Nlattr<u16, Buffer>, String> {
    NlattrBuilder::default()
        .nla_type(AttrType::from(ty))
        .nla_payload(Buffer::from(payload))
        .build()
        .map_err(|e| e.to_string())
}

/// The attributes of one level of a reply. Fixed-width values shorter than
/// their type read as absent; longer ones are read from their start.
pub(crate) struct Reader<'a>(GenlAttrHandle<'a, u16>);

impl<'a> Reader<'a> {
    pub(crate) fn new(handle: GenlAttrHandle<'a, u16>) -> Self {
        Reader(handle)
    }

    pub(crate) fn get(&self, ty: u16) -> Option<&[u8]> {
        self.0.get_attribute(ty).map(|a| a.nla_payload().as_ref())
    }

    /// The attributes nested in `ty`; `Ok(None)` if it is absent.
    pub(crate) fn nested(&self, ty: u16) -> Result<Option<Reader<'_>>, String> {
        match self.0.get_attribute(ty) {
            None => Ok(None),
            Some(a) => a
                .get_attr_handle::<u16>()
                .map(|h| Some(Reader(h)))
                .map_err(|e| format!("attribute {ty}: {e}")),
        }
    }

    /// The first `N` bytes of an attribute, if it has that many.
    pub(crate) fn array<const N: usize>(&self, ty: u16) -> Option<[u8; N]> {
        self.get(ty)?.get(..N)?.try_into().ok()
    }
    pub(crate) fn u8(&self, ty: u16) -> Option<u8> {
        self.array(ty).map(u8::from_ne_bytes)
    }
    pub(crate) fn u16(&self, ty: u16) -> Option<u16> {
        self.array(ty).map(u16::from_ne_bytes)
    }
    pub(crate) fn be16(&self, ty: u16) -> Option<u16> {
        self.array(ty).map(u16::from_be_bytes)
    }
    pub(crate) fn u32(&self, ty: u16) -> Option<u32> {
        self.array(ty).map(u32::from_ne_bytes)
    }
    /// A counter that may be 32 or 64 bits wide.
    pub(crate) fn counter(&self, ty: u16) -> Option<u64> {
        match self.get(ty)?.len() {
            4 => self.u32(ty).map(u64::from),
            n if n >= 8 => self.array(ty).map(u64::from_ne_bytes),
            _ => None,
        }
    }
    /// A string attribute up to its NUL, as bytes.
    pub(crate) fn c_string(&self, ty: u16) -> Option<&[u8]> {
        let p = self.get(ty)?;
        p.split(|&b| b == 0).next()
    }
    pub(crate) fn string(&self, ty: u16) -> Option<String> {
        self.c_string(ty)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}
