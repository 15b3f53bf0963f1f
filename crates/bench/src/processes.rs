//! The processes a multi-process scenario starts (`einvoice sandbox`, `einvoice serve`), what
//! `/proc` says of them (CPU time, resident memory), and where they may run: pinning a whole
//! process to some cores, so that the gateway can be measured on a core of its own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};
use nix::sched::{sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// A child process this run started, killed (by its own pid) when dropped.
pub struct Process {
    child: Child,
    first_line: String,
}

impl Process {
    /// Starts `command` and waits for the first line it prints (its address).
    pub async fn start(mut command: Command) -> anyhow::Result<Process> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting a process (build it: cargo build --release -p einvoice)")?;
        let stdout = child.stdout.take().context("stdout")?;
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await?;
        Ok(Process { child, first_line })
    }

    /// The URL the process printed as the last word of its first line.
    pub fn url(&self) -> anyhow::Result<String> {
        let url = self
            .first_line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .to_string();
        if !url.starts_with("http://") {
            bail!("the process did not start: {:?}", self.first_line);
        }
        Ok(url)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `einvoice`, next to this binary.
pub fn einvoice_binary() -> anyhow::Result<std::path::PathBuf> {
    let path = std::env::current_exe()?.with_file_name("einvoice");
    if !path.exists() {
        bail!(
            "{} not found: cargo build --release -p einvoice -p einvoice-bench",
            path.display()
        );
    }
    Ok(path)
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory of a process, in MiB, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// The most it ever held (`VmHWM`).
    pub peak: f64,
    /// What it holds now (`VmRSS`).
    pub now: f64,
    /// Of that, anonymous memory (the heap, stacks): not the code mapped from its file.
    pub anonymous: f64,
}

/// The resident memory of a process now.
pub fn memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    Memory {
        peak: mib("VmHWM:"),
        now: mib("VmRSS:"),
        anonymous: mib("RssAnon:"),
    }
}

/// Which cores the gateway and the rest (IRP sandbox, load generator) run on.
#[derive(Clone, Debug)]
pub struct Placement {
    /// The gateway's cores.
    pub gateway: Vec<usize>,
    /// The sandbox's and the load generator's cores.
    pub rest: Vec<usize>,
}

impl Placement {
    /// The last core for the gateway and every other core for the rest, as if the IRP and the
    /// ERP ran on machines of their own; `None` with fewer than two cores.
    pub fn gateway_on_own_core() -> Option<Placement> {
        let cores = std::thread::available_parallelism().ok()?.get();
        if cores < 2 {
            return None;
        }
        Some(Placement {
            gateway: vec![cores - 1],
            rest: (0..cores - 1).collect(),
        })
    }

    /// A short description, e.g. "gateway on core 1; sandbox and load generator on core 0".
    pub fn describe(&self) -> String {
        let list = |cores: &[usize]| {
            cores
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "gateway on core {}; sandbox and load generator on core {}",
            list(&self.gateway),
            list(&self.rest)
        )
    }
}

/// Pins every thread of a process to `cores` (as `taskset -a -p` does). Threads it starts later
/// inherit the set from the thread that starts them; call it again after start-up to be sure.
pub fn pin(pid: u32, cores: &[usize]) -> anyhow::Result<()> {
    let mut set = CpuSet::new();
    for &core in cores {
        set.set(core).context("a core number beyond the CPU set")?;
    }
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .with_context(|| format!("listing the threads of {pid}"))?;
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<i32>().ok())
        else {
            continue;
        };
        // A thread that ended since the listing is no error.
        match sched_setaffinity(Pid::from_raw(tid), &set) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => bail!("pinning thread {tid} of {pid}: {e}"),
        }
    }
    Ok(())
}
