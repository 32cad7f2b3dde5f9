/**
 * Every timing and bound of FRIM's run-time policy, in one place with one value each. The paper
 * leaves these open; ../shared/FRIM.md and docs/design.md say why each is what it is.
 */

/** Hedged execution (FRIM 4.3): two copies of each stage, re-issue on a missed deadline or a failure. */
export const HEDGING = Object.freeze({
  /** devices confirmed for each stage; the first result wins and the other copy is cancelled */
  copiesPerStage: 2,
  /**
   * When the second copy is sent (tail-tolerant hedging): the first device gets the stage at once,
   * the second only once the first is `factor` × the `quantile` of the stage's measured times
   * (sent -> done) late, or the first device is suspected or declared failed. Until `minSamples`
   * times exist, late is `unmeasuredFactor` x the first device's measured compute time for the rest
   * of the model (what requests measured, or the devices announced from their sessions' own warm
   * runs), and with nothing measured both go at once
   * (`defaultMs` 0), as in the paper. Two copies of every stage on a
   * healthy room only double the work: a device's cores are what both copies compete for.
   */
  hedge: Object.freeze({ factor: 1.5, quantile: 0.95, floorMs: 20, minSamples: 4, defaultMs: 0, unmeasuredFactor: 3 }),
  /** a device late with a stage is ranked after every other copy for this long, or until it finishes one */
  lateMs: 10_000,
  /** attempts per request before it is counted lost */
  maxAttempts: 6,
  /**
   * Requests in flight at once per requester; beyond it new ones wait (their latency still counts
   * from when they were due): devices refuse work they cannot start soon, so flooding them only
   * turns into refusals and re-issues.
   */
  maxInFlight: 6,
  /**
   * A stage's deadline: `factor` × p99 of its recent times, never below `floorMs`; `defaultMs`
   * until `minSamples` exist. Doubled with every attempt of the same request, so a room that is
   * merely slow is not flooded with copies. A failure the detector declares re-issues at once.
   */
  deadline: Object.freeze({ factor: 3, floorMs: 1000, minSamples: 5, defaultMs: 4000 }),
  /** recent stage times kept per stage, for the deadline */
  keepTimes: 64,
  /** when every copy of the next stage is busy, a forwarder waits this long before each new try */
  forwardBackoffMs: Object.freeze([0, 20, 50, 100, 200, 400]),
  /** the paper's baselines (`no-config`, `early-exit`, `skip-connection`) have no deadline logic of their own: a request silent this long is lost */
  noConfigLostMs: 8000,
});

/**
 * Warm-up at placement: each device runs its own sessions on zeros as it loads them (kernels
 * compile, and the time of a warm run is announced to the room); when the devices ready to run the
 * partitions change, each device sends a few requests of synthetic input through the room, so code
 * paths, leases and the stage times that hedging and routing decide from are warm before the
 * user's first request.
 */
export const WARM_UP = Object.freeze({
  requests: 4,
  /**
   * sent one after another, the next only while each answers within this: where a request takes
   * longer, what is cold is small beside its compute, and warming up would only load the room (at
   * 1 s, a WebGPU room here spent its first 10 s warming up while the user's requests waited);
   * where the devices' own warm runs of their sessions already show a request's compute past
   * this, none is sent
   */
  maxRequestMs: 150,
  /** at most one warm-up per this long, however often the holders change; none while this device ran a stage for the room within it */
  minGapMs: 2000,
  /** only for models up to this many FLOPs a request (the first request of a bigger one is already slow) */
  maxFlops: 5e9,
});

/** Resource confirmation before a stage is sent (FRIM 4.3). */
export const CONFIRMATION = Object.freeze({
  /** an unanswered confirmation counts as a refusal after this */
  timeoutMs: 300,
  /** a device that let a confirmation time out is skipped for this long (dead or drowning) */
  unresponsiveMs: 2000,
  /** an acknowledgement with room to spare stands this long for further jobs … */
  leaseMs: 1000,
  /** … for as many jobs as its queue had room for, less this margin */
  leaseMargin: 2,
});

/** A device's queue of stages it runs for others. */
export const STAGE_QUEUE = Object.freeze({
  /** jobs running or waiting here; beyond this the device refuses a request's first stage in the confirmation step */
  maxJobs: 6,
  /**
   * … and beyond this a later stage. A request already partway through holds activations and
   * compute spent on it: refusing it mid-pipeline throws that away and costs the requester an
   * attempt, so a device left holding every partition (the lone survivor of a double failure)
   * would shed the very requests it is finishing. Admission happens at the first stage; the
   * requesters' in-flight limit (HEDGING.maxInFlight) is what keeps this queue short.
   */
  maxJobsInPipeline: 24,
  /** stages one sender may have half-sent here at once (its requests' stages in flight stay well below) */
  assemblingPerPeer: 32,
  /** … and bytes of them (four of the largest tensor sets, MAX_TENSOR_SET_BYTES; one sender's stages arrive one after another) */
  assemblingBytesPerPeer: 256 * 1024 * 1024,
  /** a stage whose activations stopped arriving this long ago is dropped half-assembled */
  assemblyTimeoutMs: 10_000,
  /**
   * (request, stage) pairs remembered as taken or finished, so duplicates are dropped: at most this
   * many, each for at most `rememberedMs` (a twin's copy or a retransmission comes within seconds;
   * at 3 requests/s of 4 stages the count alone took 11 minutes to fill, and the soak read that as heap growth)
   */
  remembered: 8192,
  rememberedMs: 120_000,
});

/** Redundancy adaptation (FRIM 4.2, Algorithm 1) and the announcements it decides from. */
export const OFFLOADING = Object.freeze({
  announceMs: 2000,
  /**
   * A device declared failed that answers again within this long was busy (a starved CPU, a
   * stalled tab), not gone: routing reacted to it, but the failure is not held against its
   * availability a_d, or one slow moment would cost the room copies it cannot place.
   */
  briefOutageMs: 30_000,
  /** announcements come faster while a copy is being fetched, so the room sees progress */
  announceFetchingMs: 500,
  /** the coordinator re-plans at least this often, and at once on every membership change */
  coordinateMs: 1000,
  /** how long an order counts as on its way before the coordinator may order it again (plus 1 ms per KB) */
  orderGraceMs: 8000,
  /** a receiver announces an order it accepted within one tick; this leaves room for a busy device */
  orderAckMs: 1500,
  /** manifests kept in this browser (the room's, and recent others') */
  maxManifests: 16,
  /** how often a default budget is checked against what the browser's storage quota leaves */
  quotaCheckMs: 5000,
});

/** Running a partition in the leader tab's compute worker. */
export const COMPUTE = Object.freeze({
  /** the device worker gives up on a compute job the leader tab has not answered in this long */
  jobTimeoutMs: 30_000,
  /**
   * A run not finished this long after it started is taken as hung (a hung run can block the
   * compute worker's own thread, so only the page can time it): `factor` × the session's median
   * run, at least `floorMs`, and `firstRunMs` before it has finished a run (that one compiles kernels).
   */
  watchdog: Object.freeze({ factor: 20, floorMs: 10_000, firstRunMs: 120_000, keep: 20 }),
});

/**
 * What one peer may send (frames per second after a burst). Far above honest traffic: a replica
 * at LAN speed is about 1 600 chunks/s of 64 KiB; heartbeats are 4/s each way. Past it, frames are
 * dropped before they are decoded, so a flooding peer costs the leader tab a counter per frame and
 * the device worker nothing, and the heartbeats of everyone else keep their pace.
 */
export const FRAME_BUDGET = Object.freeze({ burst: 4000, perSecond: 2000 });
export const HEARTBEAT_BUDGET = Object.freeze({ burst: 40, perSecond: 20 });
/**
 * Dropping unread is not enough against a real flood: the browser still receives, decrypts and
 * dispatches every frame (here, a 4 s flood of junk took the heartbeat RTT between two other
 * devices from 4 ms to 50-150 ms at p50). A peer that, within one second, sends this many frames
 * past its budget, bad frames (the tab's check), or well-formed frames nobody can use (the
 * worker's: an answer to a request never made, a chunk never asked for) is cut off: its
 * connection closed and refused for a while. An honest peer's strays are a handful (a late copy
 * of a stage after a new run began), far below these.
 */
export const CUT_OFF = Object.freeze({ overBudgetPerSecond: 2000, overHeartbeatsPerSecond: 200, badPerSecond: 50, unusablePerSecond: 200, forMs: 30_000 });
/**
 * Devices a worker remembers (statuses, detectors, what each last announced). The server admits
 * 64 at once per room; the rest are departed and refused ones, the oldest forgotten first.
 */
export const REMEMBERED_DEVICES = 256;
/**
 * A peer whose leader tab closed while another of its tabs takes over (a `handover` frame) is not
 * checked by its failure detector for up to this long, or until the new tab's link is up: the new
 * tab has to register with the signalling server, dial or be dialled (a fallback dial waits
 * 2.5 s) and prove the room key. Past it, silence counts from the last heartbeat as ever.
 */
export const HANDOVER_GRACE_MS = 6000;

/**
 * The leader tab confirms every heartbeat round it is asked for. A round confirmed later than
 * `excusedMs` means the tab (its main thread starved by a flood or a busy machine) sent no pings
 * and read no pongs for that long: no peer is judged meanwhile and the whole lag is excused. The
 * 60-minute soak saw two devices declare a third failed after 750 ms of silence as a flood began.
 * Stalls from `loggedMs` on are written to the event log.
 */
export const TAB_LAG = Object.freeze({ excusedMs: 150, loggedMs: 250 });
