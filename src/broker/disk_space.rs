//! Free and total space of the file system under the data directory, for
//! DescribeBroker and DescribeLogDirs.

/// (total, free) bytes of the file system holding `dir`.
pub fn disk_space(dir: &std::path::Path) -> Option<(i64, i64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs to fill.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let frsize = st.f_frsize as u64;
    let total = (st.f_blocks as u64).saturating_mul(frsize);
    let free = (st.f_bavail as u64).saturating_mul(frsize);
    Some((
        i64::try_from(total).unwrap_or(i64::MAX),
        i64::try_from(free).unwrap_or(i64::MAX),
    ))
}
