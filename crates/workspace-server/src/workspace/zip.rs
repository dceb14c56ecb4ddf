//! A ZIP archive of stored (uncompressed) entries: what a directory export holds. Sizes
//! stay far below the 4 GiB of the classic format because exports stop at 10 MB.

/// CRC-32 (IEEE, reflected), as ZIP entries carry it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The most entries the classic format counts.
pub(crate) const MAX_ENTRIES: usize = u16::MAX as usize;

#[derive(Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: usize,
}

/// 1980-01-01 00:00 in MS-DOS date/time: entries carry no meaningful time.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
/// General purpose flag 11: names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;

impl Writer {
    /// Appends a file entry; `false` (and nothing added) once [`MAX_ENTRIES`] are written
    /// or a size does not fit the format.
    pub(crate) fn add(&mut self, name: &str, data: &[u8]) -> bool {
        let (Ok(size), Ok(name_len), Ok(offset)) = (
            u32::try_from(data.len()),
            u16::try_from(name.len()),
            u32::try_from(self.out.len()),
        ) else {
            return false;
        };
        if self.entries >= MAX_ENTRIES {
            return false;
        }
        let crc = crc32(data);
        let common = |buf: &mut Vec<u8>| {
            for v in [20u16, UTF8_NAMES, 0, DOS_TIME, DOS_DATE] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, size, size] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            buf.extend_from_slice(&name_len.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes());
        };
        self.out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut self.out);
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(data);

        self.central
            .extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        self.central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut self.central);
        // Comment length, disk, internal and external attributes.
        for v in [0u16, 0, 0] {
            self.central.extend_from_slice(&v.to_le_bytes());
        }
        self.central.extend_from_slice(&0u32.to_le_bytes());
        self.central.extend_from_slice(&offset.to_le_bytes());
        self.central.extend_from_slice(name.as_bytes());
        self.entries += 1;
        true
    }

    /// The archive's size so far (entries and their directory records).
    pub(crate) fn len(&self) -> usize {
        self.out.len() + self.central.len() + 22
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        let entries = u16::try_from(self.entries).unwrap_or(u16::MAX);
        let central_size = u32::try_from(self.central.len()).unwrap_or(u32::MAX);
        let central_offset = u32::try_from(self.out.len()).unwrap_or(u32::MAX);
        self.out.append(&mut self.central);
        self.out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for v in [0u16, 0, entries, entries] {
            self.out.extend_from_slice(&v.to_le_bytes());
        }
        self.out.extend_from_slice(&central_size.to_le_bytes());
        self.out.extend_from_slice(&central_offset.to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes());
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn an_archive_lists_its_entries_in_the_central_directory() {
        let mut zip = Writer::default();
        assert!(zip.add("dir/a.py", b"# Databricks notebook source\nprint(1)\n"));
        assert!(zip.add("dir/b.txt", b""));
        let bytes = zip.finish();
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(&eocd[..4], &0x0605_4b50u32.to_le_bytes());
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 2);
        let offset = u32::from_le_bytes([eocd[16], eocd[17], eocd[18], eocd[19]]) as usize;
        assert_eq!(&bytes[offset..offset + 4], &0x0201_4b50u32.to_le_bytes());
        assert_eq!(&bytes[..4], &0x0403_4b50u32.to_le_bytes());
    }
}
