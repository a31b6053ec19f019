//! Transaction arrivals, the mempool, block building, processing costs and resources.
