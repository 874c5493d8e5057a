//! Asking the processor to fetch memory ahead of its use.
//!
//! Much of what evaluating one event costs is waiting for memory that is not in cache: the
//! event's values, the rules that became candidates. A load of such memory holds up the
//! instructions after it until the data arrives; a prefetch retires at once, so the work in
//! between runs while the data arrives (docs/PERFORMANCE.md, "Prefetching").

/// Ask the processor to bring every cache line `items` covers into its caches, without
/// waiting for them. A no-op where the architecture has no prefetch instruction we use.
#[inline]
pub fn prefetch<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = items.as_ptr().cast::<u8>();
        let len = std::mem::size_of_val(items);
        let mut offset = 0;
        while offset < len {
            // SAFETY: a prefetch is a hint: it reads nothing into the program and cannot
            // fault; the address lies within a live slice (`offset < len`).
            #[allow(unsafe_code)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.add(offset).cast::<i8>(),
                );
            }
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefetching_changes_nothing() {
        let v: Vec<u64> = (0..1000).collect();
        super::prefetch(&v);
        super::prefetch(&v[999..]);
        super::prefetch::<u64>(&[]);
        super::prefetch(b"x");
        assert_eq!(v.iter().sum::<u64>(), 499_500);
    }
}
