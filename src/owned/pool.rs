//! A pool of byte buffers for owned operations, so reads reuse memory instead of allocating.

/// Reusable `Vec<u8>` buffers of one size: [`get`](BufPool::get) hands one out (allocating only
/// when the pool is empty), [`put`](BufPool::put) takes it back after the operation returned it.
#[derive(Debug)]
pub struct BufPool {
    size: usize,
    free: Vec<Vec<u8>>,
}

impl BufPool {
    /// A pool of `count` buffers of `size` bytes, allocated now.
    pub fn new(count: usize, size: usize) -> Self {
        BufPool { size, free: (0..count).map(|_| vec![0u8; size]).collect() }
    }

    /// A buffer of the pool's size (its bytes are whatever the last user left).
    #[inline]
    pub fn get(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| vec![0u8; self.size])
    }

    /// Returns a buffer; it is resized to the pool's size (no allocation if it came from here).
    #[inline]
    pub fn put(&mut self, mut buf: Vec<u8>) {
        buf.resize(self.size, 0);
        self.free.push(buf);
    }

    /// Buffers available without allocating.
    pub fn available(&self) -> usize {
        self.free.len()
    }
}
