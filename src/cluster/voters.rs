//! The static voter set given with `--voters 1@host:port,2@host:port,...`.

/// Parses `ID@HOST:PORT[,ID@HOST:PORT...]`: ids are positive and distinct,
/// addresses are distinct.
pub fn parse_voters(s: &str) -> Result<Vec<(i32, String)>, String> {
    let mut voters: Vec<(i32, String)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('@')
            .ok_or_else(|| format!("voter {part:?} must be ID@HOST:PORT"))?;
        let id: i32 = id
            .parse()
            .map_err(|_| format!("voter {part:?}: {id:?} is not a node id"))?;
        if id < 0 {
            return Err(format!("voter {part:?}: node ids are 0 or more"));
        }
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("voter {part:?}: address must be HOST:PORT"))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(format!("voter {part:?}: address must be HOST:PORT"));
        }
        if voters.iter().any(|(i, _)| *i == id) {
            return Err(format!("voter id {id} is given twice"));
        }
        if voters.iter().any(|(_, a)| a == addr) {
            return Err(format!("voter address {addr} is given twice"));
        }
        voters.push((id, addr.to_string()));
    }
    if voters.is_empty() {
        return Err("--voters needs at least one ID@HOST:PORT".into());
    }
    voters.sort();
    Ok(voters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let v = parse_voters("2@127.0.0.1:9193,1@127.0.0.1:9192").unwrap();
        assert_eq!(v[0], (1, "127.0.0.1:9192".into()));
        assert!(parse_voters("1@a:1,1@b:2").is_err());
        assert!(parse_voters("x@a:1").is_err());
        assert!(parse_voters("1@a").is_err());
        assert!(parse_voters("1-a:1").is_err());
        assert!(parse_voters("").is_err());
    }
}
