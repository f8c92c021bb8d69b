"""Review before anything goes out: policy, automated checks, the queue and reviewers' decisions."""
