# Sourced by kolla_start. sshd needs host keys and its privilege-separation directory.
mkdir -p /run/sshd
ssh-keygen -A
